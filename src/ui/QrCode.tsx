import QRCode from 'qrcode'
import { useMemo } from 'preact/hooks'

/** The link as a QR code, drawn as one SVG path of dark modules with a quiet zone of 4. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const { size, path } = useMemo(() => {
    const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' })
    let d = ''
    for (let row = 0; row < modules.size; row++) {
      for (let col = 0; col < modules.size; col++) if (modules.get(row, col)) d += `M${col + 4} ${row + 4}h1v1h-1z`
    }
    return { size: modules.size + 8, path: d }
  }, [text])
  return (
    <svg class="qr-code" data-testid="share-qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={label} shape-rendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  )
}
