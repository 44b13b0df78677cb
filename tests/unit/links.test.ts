import { describe, expect, it } from 'vitest'
import { codeLink, fileFragment, parseFragment as parseRoute, parseLocation, parseShareLink, shareLink } from '../../src/protocol/links'

describe('routes', () => {
  const id = 'ab'.repeat(32)
  it('reads transfer, swarm view and present mode links, and tells a broken link from the home page', () => {
    expect(parseRoute(`#/f/${id}`)).toEqual({ page: 'file', fileId: id })
    expect(parseRoute(`#/f/${id.toUpperCase()}/swarm`)).toEqual({ page: 'swarm', fileId: id })
    expect(parseRoute(`#/f/${id}/present`)).toEqual({ page: 'present', fileId: id })
    expect(parseRoute(fileFragment(id, 'present'))).toEqual({ page: 'present', fileId: id })
    expect(parseRoute('#/f/1234')).toEqual({ page: 'bad-link', text: '1234' })
    expect(parseRoute('#/f/%E0%A4%A')).toEqual({ page: 'bad-link', text: '%E0%A4%A' })
    expect(parseRoute('')).toEqual({ page: 'home' })
  })

  it('reads a private link’s key after the file id, and leaves out a key cut short (the page then says the link is incomplete)', () => {
    const key = 'AAECAwQFBgcICQoLDA0ODw'
    expect(parseRoute(`#/f/${id}/${key}`)).toEqual({ page: 'file', fileId: id, secret: key })
    expect(parseRoute(`#/f/${id}/${key}/swarm`)).toEqual({ page: 'swarm', fileId: id, secret: key })
    expect(parseRoute(fileFragment(id, 'present', key))).toEqual({ page: 'present', fileId: id, secret: key })
    expect(parseRoute(`#/f/${id}/${key.slice(0, 12)}`)).toEqual({ page: 'file', fileId: id })
    // Stray low bits in the last character: not a key.
    expect(parseRoute(`#/f/${id}/AAECAwQFBgcICQoLDA0ODx`)).toEqual({ page: 'file', fileId: id })
    expect(parseShareLink(shareLink('http://10.0.0.2:8080', id, key))).toMatchObject({ ok: true, fileId: id, secret: key })
    expect(new URL(shareLink('http://10.0.0.2:8080', id, key)).hash).toBe(`#/f/${id}/${key}`)
  })

  it('reads a join code in the fragment or as the whole path', () => {
    expect(parseRoute('#/c/K7MQX4')).toEqual({ page: 'join', text: 'K7MQX4' })
    expect(parseRoute('#/c/k7m%20qx4')).toEqual({ page: 'join', text: 'k7m qx4' })
    expect(parseRoute('#/c/%E0%A4%A')).toEqual({ page: 'join', text: '' })
    expect(parseLocation('/K7MQX4', '')).toEqual({ page: 'join', text: 'K7MQX4' })
    expect(parseLocation('/k7m-qx4/', '')).toEqual({ page: 'join', text: 'k7m-qx4' })
    expect(new URL(codeLink('http://10.0.0.2:8080', 'K7MQX4')).pathname).toBe('/K7MQX4')
    // A fragment wins over the path; other paths are the app's home.
    expect(parseLocation('/K7MQX4', `#/f/${id}`)).toEqual({ page: 'file', fileId: id })
    expect(parseLocation('/', '')).toEqual({ page: 'home' })
    expect(parseLocation('/index.html', '')).toEqual({ page: 'home' })
  })

  it('reads a whole link as pasted: a share link, or a join code’s short link', () => {
    expect(parseShareLink(`http://10.0.0.2:8080/#/f/${id}`)).toMatchObject({ ok: true, origin: 'http://10.0.0.2:8080', fileId: id })
    expect(parseShareLink('http://10.0.0.2:8080/k7m-qx4')).toMatchObject({ ok: true, origin: 'http://10.0.0.2:8080', joinCode: 'k7m-qx4' })
    expect(parseShareLink('http://10.0.0.2:8080/#/c/K7MQX4')).toMatchObject({ ok: true, joinCode: 'K7MQX4' })
    expect(parseShareLink('http://10.0.0.2:8080/')).toEqual({ ok: false, reason: 'no-file-id' })
    expect(parseShareLink('K7MQX4')).toEqual({ ok: false, reason: 'not-a-link' })
  })
})
