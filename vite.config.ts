import type { Server } from 'node:http'
import type { Plugin } from 'vite'
import { build as esbuild } from 'esbuild'
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

/** The Service Worker that serves files while they arrive: one classic script at a fixed URL (a worker's scope follows its path). */
const STREAM_WORKER = { entry: 'src/worker/stream-sw.ts', url: '/stream-sw.js' }

async function bundleStreamWorker(minify: boolean): Promise<string> {
  const result = await esbuild({ entryPoints: [STREAM_WORKER.entry], bundle: true, format: 'iife', target: 'es2022', minify, write: false })
  return result.outputFiles[0]!.text
}

function streamWorker(): Plugin {
  return {
    name: 'tabswarm-stream-worker',
    configureServer(server) {
      server.middlewares.use(STREAM_WORKER.url, (_request, response, next) => {
        bundleStreamWorker(false).then((code) => {
          response.setHeader('Content-Type', 'text/javascript; charset=utf-8')
          response.end(code)
        }, next)
      })
    },
    async generateBundle() {
      this.emitFile({ type: 'asset', fileName: STREAM_WORKER.url.slice(1), source: await bundleStreamWorker(true) })
    },
  }
}

/** Test files that must not share the CPU with others. */
const SWARM_TIMING = ['tests/integration/engine.test.ts']

export default defineConfig({
  plugins: [trackerInDevServer(), streamWorker()],
  build: { target: 'es2022' },
  test: {
    environment: 'node',
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts', 'tests/server/**/*.test.ts', 'tests/cli/**/*.test.ts'],
          exclude: [...SWARM_TIMING],
          // Most files wait on sockets and timers, not the CPU: three at once on two cores (the default is one;
          // measured: 104 s with two, 87 s with three, 77 s with four, which leaves less room for timing).
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        // Swarms of engines in one process whose assertions count repeats and timeouts: alone, after the rest.
        test: { name: 'alone', include: [...SWARM_TIMING], maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
})
