import { describe, expect, it } from 'vitest'
import { centre, labelSpot, overlaps, stripColumns, swarmLayout } from '../../src/ui/swarm-layout'
import { memberColour, memberPattern, PEER_PALETTE } from '../../src/ui/peer-colour'

/** Stage sizes: a 1280×720 projector, a 1920×1080 one, a small laptop window. */
const STAGES = [
  [1248, 570],
  [1888, 930],
  [984, 450],
] as const

describe('swarm view layout', () => {
  it('never overlaps two nodes and keeps every node on the stage, from one peer to two hundred', () => {
    const problems: string[] = []
    for (const [width, height] of STAGES) {
      for (let count = 1; count <= 200; count++) {
        const { boxes } = swarmLayout(count, width, height)
        if (boxes.length !== count) problems.push(`${count} peers: ${boxes.length} boxes`)
        for (const [i, box] of boxes.entries()) {
          const outside = box.x < 0 || box.y < 0 || box.x + box.w > width + 1e-6 || box.y + box.h > height + 1e-6
          if (outside) problems.push(`${count} peers on ${width}×${height}: node ${i} off the stage`)
          for (let j = i + 1; j < boxes.length; j++) {
            if (overlaps(box, boxes[j]!)) problems.push(`${count} peers on ${width}×${height}: nodes ${i} and ${j} overlap`)
          }
        }
      }
    }
    expect(problems).toEqual([])
  })

  it('uses cards on a ring for a few peers and tiles big enough for 18 px text up to sixty on a 1280×720 projector', () => {
    expect(swarmLayout(6, 1248, 570).density).toBe('cards')
    expect(swarmLayout(10, 1248, 570).density).toBe('tiles')
    for (const count of [30, 60]) {
      const { density, boxes } = swarmLayout(count, 1248, 570)
      expect(density).toBe('compact')
      // A line of "ab12cd 100%" and a line of "↓ 1.2 MB/s" at 18 px, a strip of chunks, border and padding.
      expect(boxes[0]!.w).toBeGreaterThanOrEqual(110)
      expect(boxes[0]!.h).toBeGreaterThanOrEqual(62)
    }
  })

  it('puts a rate label on its line where it touches no node, or nowhere', () => {
    const { boxes } = swarmLayout(4, 1248, 570)
    const size = { w: 100, h: 30 }
    const spot = labelSpot(centre(boxes[0]!), centre(boxes[2]!), size, boxes)
    expect(spot).toBeDefined()
    for (const box of boxes) expect(overlaps(spot!, box)).toBe(false)
    // Between two tiles that touch there is no room.
    const packed = [
      { x: 0, y: 0, w: 100, h: 100 },
      { x: 105, y: 0, w: 100, h: 100 },
    ]
    expect(labelSpot(centre(packed[0]!), centre(packed[1]!), size, packed)).toBeUndefined()
  })

  it('fits a strip of chunks to its box', () => {
    expect(stripColumns(64, 100, 7)).toBe(32)
    expect(stripColumns(64, 160, 40)).toBe(16)
    expect(stripColumns(1, 50, 50)).toBe(1)
  })

  it('gives the first twelve members twelve colours, then a new outline for each round', () => {
    expect(new Set(Array.from({ length: 12 }, (_, i) => memberColour(i))).size).toBe(PEER_PALETTE.length)
    expect(memberPattern(0)).toBe('solid')
    expect(memberPattern(12)).not.toBe('solid')
    expect(memberColour(12)).toBe(memberColour(0))
  })
})
