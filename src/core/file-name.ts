// Names come from other people's manifests: make them safe to save on any OS, and show them as
// they are (no character may hide or reorder the rest of a name).
const RESERVED_WINDOWS = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i
const UNSAFE = /[\u0000-\u001f\u007f-\u009f<>:"/\\|?*]/g
/** Bidirectional controls and zero-width characters: they make "gpj.exe" look like "exe.jpg". */
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g
const MAX_LENGTH = 200

export function safeFileName(name: string): string {
  let safe = name
    .replace(INVISIBLE, '')
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

/** A name for display: invisible and direction-changing characters shown as ⟨U+XXXX⟩. */
export function visibleName(name: string): string {
  return name.replace(INVISIBLE, (char) => `⟨U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`)
}

/**
 * Why a bundle's paths cannot be written safely on every system, or undefined: a part that is a
 * drive (`C:`), a reserved device name (`CON`, `lpt1.txt`), ends in a dot or space, holds a
 * character Windows refuses or an invisible one, or two paths that differ only in case (one would
 * overwrite the other on Windows and macOS).
 */
export function bundlePathHazard(paths: readonly string[]): string | undefined {
  const seen = new Map<string, string>()
  for (const path of paths) {
    for (const part of path.split('/')) {
      if (/^[a-z]:/i.test(part)) return `“${visibleName(path)}” names a drive`
      if (RESERVED_WINDOWS.test(part)) return `“${visibleName(path)}” uses the reserved name “${part}”`
      if (/[. ]$/.test(part)) return `“${visibleName(path)}” has a part ending in a dot or space`
      if (new RegExp(UNSAFE.source).test(part)) return `“${visibleName(path)}” has a character that Windows refuses`
      if (new RegExp(INVISIBLE.source).test(part)) return `“${visibleName(path)}” has an invisible or direction-changing character`
    }
    const folded = path.toLowerCase()
    const twin = seen.get(folded)
    if (twin !== undefined) return `“${visibleName(twin)}” and “${visibleName(path)}” differ only in case`
    seen.set(folded, path)
  }
  return undefined
}
