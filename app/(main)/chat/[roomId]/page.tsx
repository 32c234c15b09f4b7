import { notFound } from 'next/navigation';
import { ChatView } from '../../../_components/chat-view';
import { requireUser } from '../../../_lib/session';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function RoomPage({ params }: { params: Promise<{ roomId: string }> }) {
  const { roomId } = await params;
  await requireUser(`/chat/${roomId}`);
  if (!UUID.test(roomId)) notFound();
  return <ChatView key={roomId} roomId={roomId} />;
}
