import { SupportForm } from '../../_components/support-form';
import { requireUser } from '../../_lib/session';

export default async function SupportPage() {
  const me = await requireUser('/support');
  return (
    <main className="page page-narrow">
      <div className="page-head">
        <h1>Contact support</h1>
        <p className="muted">Problems with an order, a payment or another member? Tell us and we will get back to you by email.</p>
      </div>
      <SupportForm me={me} />
    </main>
  );
}
