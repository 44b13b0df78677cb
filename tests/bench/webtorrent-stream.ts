// WebTorrent streaming a file to a <video> through its own Service Worker server (sw.min.js and
// createServer, its documented browser path), for the stream benchmark's comparison.
import { startWebTorrentPages } from './webtorrent'

/** The seeder's page shares its input's file; the viewer's (with `#<magnet>`) streams it into its video. */
const PAGE = `<!doctype html><input type="file"><video id="player" muted></video><script type="module">
import WebTorrent from './webtorrent.min.js'
window.WebTorrent = WebTorrent
const magnet = decodeURIComponent(location.hash.slice(1))
if (magnet) {
  const registration = await navigator.serviceWorker.register('./sw.min.js', { scope: './' })
  await navigator.serviceWorker.ready
  const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false })
  client.createServer({ controller: registration })
  client.add(magnet, (torrent) => torrent.files[0].streamTo(document.getElementById('player')))
}
</script>`

export function startWebTorrentStreamPages(): Promise<{ origin: string; close: () => Promise<void> }> {
  return startWebTorrentPages(PAGE)
}
