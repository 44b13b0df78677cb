// Media files the tests make themselves with Debian's ffmpeg (installed by the test command like
// the browsers), kept in node_modules/.cache so a rerun does not encode them again.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'

const CACHE = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'tabswarm', 'media')

/**
 * A WebM (VP8 and Opus) of a test pattern with noise, so its bitrate holds: `seconds` long at
 * `megabitsPerSecond`, a keyframe every second, its cues where ffmpeg puts them (at the end, as in
 * most files people have).
 */
export function testVideo(seconds: number, megabitsPerSecond: number): Buffer {
  const path = join(CACHE, `pattern-${seconds}s-${megabitsPerSecond}M.webm`)
  if (!existsSync(path)) {
    mkdirSync(CACHE, { recursive: true })
    const partial = `${path}.${process.pid}.partial.webm`
    const rate = `${megabitsPerSecond}M`
    execFileSync(
      'ffmpeg',
      [
        ['-hide_banner', '-loglevel', 'error', '-y'],
        ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25,noise=alls=30:allf=t'],
        ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
        ['-t', String(seconds), '-c:v', 'libvpx', '-b:v', rate, '-minrate', rate, '-maxrate', rate],
        ['-deadline', 'realtime', '-cpu-used', '8', '-g', '25', '-c:a', 'libopus', '-b:a', '64k', partial],
      ].flat(),
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
    renameSync(partial, path)
  }
  return readFileSync(path)
}
