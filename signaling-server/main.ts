import { fileURLToPath } from 'node:url'
import { ConfigError, loadConfig } from './config'
import { BackendError } from './backend'
import { startService } from './server'

const defaultStaticDir = fileURLToPath(new URL('../dist', import.meta.url))

try {
  const config = loadConfig(process.env, { staticDir: defaultStaticDir })
  const service = await startService(config)
  // SIGTERM (and Ctrl-C): drain (clients reconnect elsewhere), then exit; a second signal exits at once.
  const stop = () => {
    process.once('SIGINT', () => process.exit(1))
    process.once('SIGTERM', () => process.exit(1))
    void service.drain().then(
      () => process.exit(0),
      (error: unknown) => {
        service.log.error({ event: 'service.close-failed', reason: (error as Error).message }, 'TabSwarm could not close cleanly')
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  if (error instanceof ConfigError) console.error(`Configuration error: ${error.message}`)
  else if (error instanceof BackendError) console.error(`Cannot start: ${error.message}`)
  else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`Port ${process.env.PORT ?? 8080} is already in use: set PORT to a free port, e.g. PORT=8081 npm start`)
  } else console.error(error)
  process.exit(1)
}
