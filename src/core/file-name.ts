// Names come from other people's manifests: make them safe to save on any OS.
const RESERVED_WINDOWS = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i
const UNSAFE = /[\u0000-\u001f\u007f-\u009f<>:"/\\|?*]/g
const MAX_LENGTH = 200

export function safeFileName(name: string): string {
  let safe = name
    .replace(UNSAFE, '_')
    .trim()
    .replace(/^\.+/, '')
    .replace(/[. ]+$/, '')
  if (RESERVED_WINDOWS.test(safe)) safe = `_${safe}`
  if (safe.length > MAX_LENGTH) {
    const dot = safe.lastIndexOf('.')
    const ext = dot > 0 && safe.length - dot <= 16 ? safe.slice(dot) : ''
    safe = safe.slice(0, MAX_LENGTH - ext.length) + ext
  }
  return safe || 'download'
}
