export const WEBTORRENT_DIR: string
export const WEBTORRENT_VERSIONS: { webtorrent: string; 'bittorrent-tracker': string }
export function webTorrentInstalled(): boolean
export function ensureWebTorrent(): void
