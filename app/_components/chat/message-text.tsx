/** Message text with its web links clickable; everything else stays plain text. */
import { splitLinks } from '../../_lib/links';

export function MessageText({ text }: { text: string }) {
  return (
    <>
      {splitLinks(text).map((part, i) =>
        part.kind === 'link' ? (
          <a key={i} href={part.href} target="_blank" rel="noopener noreferrer nofollow" className="message-link">
            {part.text}
          </a>
        ) : (
          part.text
        ),
      )}
    </>
  );
}
