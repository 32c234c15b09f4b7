/** Any unknown address (and `notFound()` anywhere): says so, with a way back. */
import Link from 'next/link';
import { ChatBubblesIcon } from './_components/product-icon';

export default function NotFound() {
  return (
    <main className="not-found" data-testid="not-found">
      <div className="chat-empty-icon" aria-hidden="true">
        <ChatBubblesIcon size={56} />
      </div>
      <h1>This page does not exist</h1>
      <p className="muted">The link may be old, or the address mistyped.</p>
      <div className="not-found-actions">
        <Link href="/" className="btn btn-primary">
          Go to the catalogue
        </Link>
        <Link href="/chat" className="btn btn-secondary">
          Your chats
        </Link>
      </div>
    </main>
  );
}
