import { CatalogueGrid } from '../_components/catalogue-grid';
import { requireUser } from '../_lib/session';

export default async function CataloguePage() {
  const me = await requireUser('/');
  return (
    <main className="page">
      <div className="page-head">
        <h1>Fresh finds near you</h1>
        <p className="muted">Ask the seller anything before you buy — chats are private between the two of you.</p>
      </div>
      <CatalogueGrid me={me} />
    </main>
  );
}
