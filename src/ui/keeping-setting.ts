// The space a tab donates as a keeper, remembered by this browser so a reopened tab keeps helping.
const KEY = 'tabswarm:keeping-space'

export function loadKeepingSpace(): number | undefined {
  try {
    const bytes = Number(localStorage.getItem(KEY))
    return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined
  } catch {
    return undefined // storage blocked
  }
}

export function saveKeepingSpace(bytes: number | undefined): void {
  try {
    if (bytes) localStorage.setItem(KEY, String(bytes))
    else localStorage.removeItem(KEY)
  } catch {
    // storage blocked: the choice lasts for this tab only
  }
}
