import type { Server } from 'node:http'
import type { Plugin } from 'vite'
import { defineConfig } from 'vitest/config'

/** `npm run dev`: the tracker runs inside Vite's dev server, on the same port, at /ws. */
function trackerInDevServer(): Plugin {
  return {
    name: 'tabswarm-tracker',
    apply: 'serve',
    async configureServer(server) {
      if (!server.httpServer) return
      const { startDevTracker } = await server.ssrLoadModule('/signaling-server/dev-tracker.ts')
      const stop: () => Promise<void> = await startDevTracker(server.httpServer as Server)
      server.httpServer.once('close', () => void stop())
    },
  }
}

export default defineConfig({
  plugins: [trackerInDevServer()],
  build: { target: 'es2022' },
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/server/**/*.test.ts', 'tests/cli/**/*.test.ts'],
    environment: 'node',
  },
})
