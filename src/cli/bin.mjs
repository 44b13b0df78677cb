#!/usr/bin/env node
// The `tabswarm` command: loads the TypeScript sources through tsx, then runs the CLI.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('./main.ts')
const code = await main(process.argv.slice(2))
// A seeder keeps running (-1) until Ctrl-C; other commands exit with their code.
if (code >= 0) process.exit(code)
