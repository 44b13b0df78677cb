import { expect, test } from './fixtures'
import { feedSwarm } from '../support/swarm-feed'

// A class on the projector: the swarm view of 30 and 60 members (plain WebSocket clients on the
// real tracker) at 1280×720 keeps every node apart, on screen, named in type readable from the back.
for (const count of [30, 60]) {
  test(`the swarm view of ${count} members at 1280×720: no overlapping nodes, every label on screen and at least 18 px`, async ({
    peers,
    service,
  }) => {
    const swarm = await feedSwarm(`${service.url.replace('http', 'ws')}/ws`, count)
    try {
      const viewer = await peers.open(`/#/f/${swarm.fileId}/swarm`, { viewport: { width: 1280, height: 720 } })
      await expect(viewer.getByTestId('swarm-view')).toHaveAttribute('data-peer-count', String(count))
      await expect(viewer.getByTestId('swarm-peer')).toHaveCount(count)
      swarm.reportRates()
      await expect(viewer.getByTestId('swarm-link').first()).toBeVisible()
      const nodes = await viewer.getByTestId('swarm-peer').evaluateAll((elements) =>
        elements.map((element) => {
          const name = element.querySelector('.swarm-node-name')!
          const box = element.getBoundingClientRect()
          const text = name.getBoundingClientRect()
          return {
            id: element.getAttribute('data-peer-id')!,
            box: { x: box.x, y: box.y, w: box.width, h: box.height },
            label: { x: text.x, y: text.y, w: text.width, h: text.height },
            labelFits: name.scrollWidth <= name.clientWidth + 1 && text.right <= box.right && text.bottom <= box.bottom,
            fontPx: parseFloat(getComputedStyle(name).fontSize),
            border: getComputedStyle(element).borderTopColor,
          }
        }),
      )
      const overlapping: string[] = []
      for (const [i, a] of nodes.entries()) {
        for (const b of nodes.slice(i + 1)) {
          if (a.box.x < b.box.x + b.box.w && b.box.x < a.box.x + a.box.w && a.box.y < b.box.y + b.box.h && b.box.y < a.box.y + a.box.h) {
            overlapping.push(`${a.id} and ${b.id}`)
          }
        }
      }
      expect(overlapping).toEqual([])
      for (const node of nodes) {
        expect(node.label.x).toBeGreaterThanOrEqual(0)
        expect(node.label.y).toBeGreaterThanOrEqual(0)
        expect(node.label.x + node.label.w).toBeLessThanOrEqual(1280)
        expect(node.label.y + node.label.h).toBeLessThanOrEqual(720)
        expect(node.labelFits).toBe(true)
        expect(node.fontPx).toBeGreaterThanOrEqual(18)
      }
      // The first twelve members have twelve different colours.
      expect(new Set(nodes.slice(0, 12).map((node) => node.border)).size).toBe(12)
    } finally {
      swarm.close()
    }
  })
}
