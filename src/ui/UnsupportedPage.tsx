import type { MissingFeature } from '../engine/api'

const EXPLAINED: Record<MissingFeature, { what: string; fix: string }> = {
  webrtc: {
    what: 'This browser cannot open WebRTC data channels, which is how files move between browsers here.',
    fix: 'Open the link in a current Firefox, Chrome, Edge or Safari. If WebRTC was turned off in settings or by an extension, turn it back on.',
  },
  'secure-context': {
    what: 'This page was opened over plain http from another machine, so the browser withholds what it needs (WebCrypto, to check every chunk).',
    fix: 'Open it over https (or as http://localhost on the machine that runs the service). Whoever runs this service: put it behind https.',
  },
  webcrypto: {
    what: 'This browser has no WebCrypto, which checks every chunk against its hash.',
    fix: 'Open the link in a current Firefox, Chrome, Edge or Safari.',
  },
}

/** Shown instead of the app when this browser cannot take part, saying why and what to do. */
export function UnsupportedPage({ missing }: { missing: MissingFeature[] }) {
  return (
    <main class="unsupported" data-testid="unsupported" data-missing={missing.join(' ')}>
      <h1>This browser cannot share or receive files here</h1>
      <ul>
        {missing.map((feature) => {
          const { what, fix } = EXPLAINED[feature]
          return (
            <li key={feature} data-feature={feature}>
              <p>{what}</p>
              <p>
                <strong>What to do:</strong> {fix}
              </p>
            </li>
          )
        })}
      </ul>
      <p class="muted">Nothing was sent or received. The link stays valid: open it again in a browser that can.</p>
    </main>
  )
}
