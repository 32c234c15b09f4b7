export default function Home() {
  return (
    <main style={{ maxWidth: 720, margin: '0 auto', padding: 24 }}>
      <h1>Re:Use Chat</h1>
      <p>Real-time chat between buyers and sellers of the Re:Use marketplace.</p>
    </main>
  );
}
