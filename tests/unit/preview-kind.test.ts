import { describe, expect, it } from 'vitest'
import { previewOf, previewsWhileArriving } from '../../src/core/preview-kind'

describe('previews', () => {
  it('shows media, images, PDFs and text by their type, or by their name when the type says nothing', () => {
    expect(previewOf('video/webm', 'talk.webm')).toEqual({ kind: 'video', servedType: 'video/webm' })
    expect(previewOf('', 'song.MP3')).toEqual({ kind: 'audio', servedType: 'audio/mpeg' })
    expect(previewOf('application/octet-stream', 'photo.jpg')).toEqual({ kind: 'image', servedType: 'image/jpeg' })
    expect(previewOf('application/pdf', 'notes')).toEqual({ kind: 'pdf', servedType: 'application/pdf' })
    expect(previewOf('text/plain; charset=latin1', 'a')).toEqual({ kind: 'text', servedType: 'text/plain; charset=utf-8' })
    expect(previewOf('', 'data.json')).toEqual({ kind: 'text', servedType: 'text/plain; charset=utf-8' })
  })

  it('never serves a type a browser would run: pages and scripts are downloads, text is plain', () => {
    for (const [type, name] of [
      ['text/html', 'page.html'],
      ['application/javascript', 'x.js'],
      ['', 'page.htm'],
      ['application/xhtml+xml', 'x.xhtml'],
      ['', 'no-extension'],
    ] as const) {
      expect(previewOf(type, name)).toEqual({ kind: undefined, servedType: 'application/octet-stream' })
    }
    // A page claiming to be text, or named so, is shown as text, never rendered.
    expect(previewOf('text/html', 'notes.txt').servedType).toBe('text/plain; charset=utf-8')
  })

  it('plays media and draws images while they arrive; a PDF or a text waits for the whole file', () => {
    expect(previewsWhileArriving('video')).toBe(true)
    expect(previewsWhileArriving('image')).toBe(true)
    expect(previewsWhileArriving('pdf')).toBe(false)
    expect(previewsWhileArriving('text')).toBe(false)
  })
})
