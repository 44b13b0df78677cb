// Stock Firefox (Debian's firefox-esr) over WebDriver BiDi with puppeteer-core, set up for WebRTC
// between peers on the test machine: the browser tests and the benchmarks launch it through here.
import puppeteer, { type Browser } from 'puppeteer-core'

/** Launches headless Firefox with ICE over the namespace's own addresses, shown as they are, and no permission prompt; `prefs` adds to them. */
export function launchWebRtcFirefox(prefs: Record<string, unknown> = {}): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: {
      'media.peerconnection.ice.loopback': true,
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      'media.navigator.permission.disabled': true,
      ...prefs,
    },
  })
}
