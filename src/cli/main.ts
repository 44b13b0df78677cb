// `tabswarm seed|get|keep`: a Node peer in the same swarms as the browser tabs, built from the
// same protocol, core and engine code. WebRTC comes from @roamhq/wrtc (prebuilt binaries from
// npm, no download or build at install).
import { parseArgs } from 'node:util'
import { TRACKER_PATH } from '../protocol/tracker'
import { parseBytes } from '../core/format-bytes'
import { parseDuration } from '../core/duration'
import { get, NoProgress } from './get'
import { keepSpace } from './keeper'
import { Output } from './output'
import { DEFAULT_TRACKER, seed, UsageError } from './seed'
import { stateDir } from './shares'

const USAGE = `Usage:
  tabswarm seed <file-or-folder> [--public | --keepers] [--new-link] [--tracker ws://host:port/ws] [--app http://host:port]
      Shares a file (or a folder, as one bundle) from disk into browser swarms, and keeps it
      available until stopped with Ctrl-C. The link is private (encrypted; only the link,
      which carries the key, opens it) unless --public lists it on the tracker by name.
      --keepers lets the tracker point keepers at the private file (they hold it unread).
      Seeding the same unchanged files again serves the same link (its key is kept in the
      state folder, TABSWARM_STATE_DIR or ~/.local/state/tabswarm); --new-link makes a new one.
  tabswarm keep <link> [-o <folder>] [--tracker ws://host:port/ws]
      Keeps a file available for others without reading it: fetches its chunks as they travel
      (a private file's encrypted; a key in the link is never used) into <file id>.kept in the
      folder, then seeds them until stopped with Ctrl-C. Run again, it resumes.
  tabswarm keep --space <size> [-o <folder>] [--tracker ws://host:port/ws]
      Donates up to <size> (e.g. 20GB) of the folder: the tracker points this keeper at the files
      with the fewest complete copies (listed ones, and private ones their sharer opened to
      keepers), and it lets go of the least recently wanted when full. Nothing it keeps is read.
  tabswarm get <link> [-o <folder>] [--seed] [--timeout <duration>] [--tracker ws://host:port/ws]
      Downloads a share link (or a join code's short link, http://host:port/K7MQX4) into a
      folder (default: the current one); running it again resumes from what is already on
      disk. It waits while no one shares the file; --timeout (e.g. 90s, 5m) gives up, with
      exit code 3, once that long passes with no chunk verified. With --seed it then keeps
      sharing what it saved (as \`tabswarm seed\` does) until stopped with Ctrl-C.

  --tracker  the tracker's WebSocket (default: from the link, or ws://localhost:8080${TRACKER_PATH})
  --app      the web app's address used in printed links (default: from --tracker)
  --json     one JSON object per line instead of sentences, for scripts: {"event": "sharing" |
             "hashing" | "seeding" | "looking" | "progress" | "resuming" | "done" | "stopped" | "error", ...}`

export async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tracker: { type: 'string' },
        app: { type: 'string' },
        out: { type: 'string', short: 'o', default: '.' },
        seed: { type: 'boolean' },
        public: { type: 'boolean' },
        keepers: { type: 'boolean' },
        'new-link': { type: 'boolean' },
        json: { type: 'boolean' },
        space: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { values } = parsed
  const out = new Output(values.json ?? false)
  const [command, target, ...rest] = parsed.positionals
  if (values.help || !command) {
    console.log(USAGE)
    return values.help ? 0 : 2
  }
  try {
    if (values.tracker !== undefined && !/^wss?:\/\//.test(values.tracker)) {
      throw new UsageError(`--tracker must be a ws:// or wss:// address, e.g. ${DEFAULT_TRACKER}`)
    }
    if (values.public && values.keepers) throw new UsageError('--keepers is for private files; a --public one is open to keepers already.')
    if (command === 'keep' && values.space !== undefined) {
      const space = parseBytes(values.space)
      if (!space) throw new UsageError(`--space takes a size, e.g. --space 20GB (not “${values.space}”).`)
      if (target) throw new UsageError('`tabswarm keep --space` takes no link: the tracker says what to keep.')
      await keepSpace(space, { tracker: values.tracker ?? DEFAULT_TRACKER, out: values.out! }, out)
      return -1
    }
    const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout)
    if (values.timeout !== undefined && timeoutMs === undefined)
      throw new UsageError(`--timeout takes a duration, e.g. --timeout 90s or --timeout 5m (not “${values.timeout}”).`)
    if (timeoutMs !== undefined && command !== 'get') throw new UsageError('--timeout is for `tabswarm get`.')
    if (!target || rest.length > 0)
      throw new UsageError(`\`tabswarm ${command}\` takes exactly one ${command === 'seed' ? 'path' : 'link'}.`)
    if (command === 'seed') {
      const how = { listed: values.public ?? false, keepers: values.keepers ?? false, newLink: values['new-link'] ?? false }
      await seed(target, { tracker: values.tracker, app: values.app, ...how, stateDir: stateDir() }, out)
    } else if (command === 'get')
      await get(target, { tracker: values.tracker, out: values.out!, seed: values.seed ?? false, timeoutMs }, out)
    else if (command === 'keep') await get(target, { tracker: values.tracker, out: values.out!, seed: true, keep: true }, out)
    else throw new UsageError(`Unknown command “${command}”.`)
    // Seeding runs until a signal ends the process.
    return command === 'seed' || command === 'keep' || values.seed ? -1 : 0
  } catch (error) {
    out.done()
    if (error instanceof UsageError) {
      if (out.json) out.fail(error.message, { usage: true })
      else console.error(`${error.message}\n\n${USAGE}`)
      return 2
    }
    out.fail(out.json ? (error as Error).message : `Error: ${(error as Error).message}`)
    return error instanceof NoProgress ? 3 : 1
  }
}
