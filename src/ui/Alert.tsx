/** A problem the user should read at once (announced by screen readers); nothing when there is none. */
export function Alert({ text }: { text: string | undefined }) {
  return text ? (
    <p class="error" role="alert">
      {text}
    </p>
  ) : null
}
