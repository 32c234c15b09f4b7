import { ChatBubblesIcon } from '../../_components/product-icon';
import { requireUser } from '../../_lib/session';

export default async function ChatsPage() {
  await requireUser('/chat');
  return (
    <div className="chat-empty">
      <div className="chat-empty-icon" aria-hidden="true">
        <ChatBubblesIcon size={56} />
      </div>
      <h1>Your chats</h1>
      <p className="muted">Pick a conversation, or find something in the catalogue and ask the seller.</p>
    </div>
  );
}
