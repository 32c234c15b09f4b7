'use client';
/**
 * The inquiry form (`inquiries.create`) and the user's own inquiries (`inquiries.mine`).
 * The form checks what it can before sending; the server is the authority, and its zod field
 * errors are shown next to the same fields.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { Inquiry } from '../_lib/chat-types';
import { fieldErrorsOf, useTRPC } from '../_lib/trpc';
import { formatListTime } from './format';

const CATEGORIES = [
  { value: 'order', label: 'Order' },
  { value: 'payment', label: 'Payment' },
  { value: 'account', label: 'Account' },
  { value: 'report', label: 'Report a member or listing' },
  { value: 'other', label: 'Other' },
] as const;

type Field = 'name' | 'email' | 'phone' | 'category' | 'message';
type Values = Record<Field, string>;
type Errors = Partial<Record<Field, string>>;

const FIELDS: Field[] = ['name', 'email', 'phone', 'category', 'message'];
const MAX_MESSAGE = 5000;

function validate(v: Values): Errors {
  const e: Errors = {};
  if (!v.name.trim()) e.name = 'Please enter your name.';
  else if (v.name.trim().length > 100) e.name = 'Your name can be at most 100 characters.';
  if (!v.email.trim()) e.email = 'Please enter your email address.';
  else if (!/^[^\s@]+@[^\s@]+$/.test(v.email.trim())) e.email = 'Please enter a valid email address, like name@example.com.';
  if (v.phone.trim()) {
    if (!/^[0-9 +()-]+$/.test(v.phone.trim())) e.phone = 'Use digits, spaces, +, - and parentheses only.';
    else if (!/\d/.test(v.phone)) e.phone = 'A phone number needs digits.';
  }
  if (!v.message.trim()) e.message = 'Please tell us how we can help.';
  else if (v.message.trim().length > MAX_MESSAGE) e.message = `Please keep it under ${MAX_MESSAGE} characters.`;
  return e;
}

const STATUS_LABEL: Record<string, string> = { pending: 'Pending', sent: 'Sent to support', failed: 'Delivery failed' };

function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`status-badge status-${status}`} data-testid="inquiry-status">
      {STATUS_LABEL[status] ?? status}
    </span>
  );
}

export function SupportForm({ me }: { me: { id: string; name: string } }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<Values>({ name: me.name, email: '', phone: '', category: 'order', message: '' });
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [created, setCreated] = useState<Inquiry | null>(null);
  const refs = useRef<Partial<Record<Field, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement | null>>>({});
  const confirmation = useRef<HTMLDivElement>(null);
  const ids = { name: useId(), email: useId(), phone: useId(), category: useId(), message: useId() };

  const mine = useQuery({
    ...trpc.inquiries.mine.queryOptions(),
    // statuses move on the server (pending → sent): look again while any is pending
    refetchInterval: (q) => (q.state.data?.some((i) => i.status === 'pending') ? 3000 : false),
  });

  const create = useMutation(
    trpc.inquiries.create.mutationOptions({
      onSuccess(inquiry) {
        setCreated(inquiry);
        setValues((v) => ({ ...v, phone: '', message: '' }));
        void queryClient.invalidateQueries({ queryKey: trpc.inquiries.mine.queryKey() });
        requestAnimationFrame(() => confirmation.current?.focus());
      },
      onError(err) {
        const fields = fieldErrorsOf(err);
        const next: Errors = {};
        for (const f of FIELDS) {
          const msg = fields?.[f]?.[0];
          if (msg) next[f] = msg.charAt(0).toUpperCase() + msg.slice(1) + (msg.endsWith('.') ? '' : '.');
        }
        setErrors(next);
        const first = FIELDS.find((f) => next[f]);
        if (first) refs.current[first]?.focus();
        else setFormError(err.data?.code === 'TOO_MANY_REQUESTS' ? 'You have sent many inquiries recently. Please try again later.' : `Your inquiry could not be sent: ${err.message}`);
      },
    }),
  );

  function set(field: Field, value: string) {
    setValues((v) => ({ ...v, [field]: value }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: undefined }));
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    setCreated(null);
    const found = validate(values);
    setErrors(found);
    const first = FIELDS.find((f) => found[f]);
    if (first) {
      refs.current[first]?.focus();
      return;
    }
    create.mutate({
      name: values.name.trim(),
      email: values.email.trim(),
      ...(values.phone.trim() ? { phone: values.phone.trim() } : {}),
      category: values.category,
      message: values.message.trim(),
    });
  }

  const row = (field: Field, label: string, control: ReactNode, hint?: string) => (
    <div className={`field ${errors[field] ? 'has-error' : ''}`}>
      <label htmlFor={ids[field]}>{label}</label>
      {control}
      {hint && !errors[field] && (
        <p className="field-hint" id={`${ids[field]}-hint`}>
          {hint}
        </p>
      )}
      <p className="field-error" id={`${ids[field]}-error`} data-testid={`error-${field}`}>
        {errors[field] ?? ''}
      </p>
    </div>
  );
  const a11y = (field: Field, hint = false) => ({
    id: ids[field],
    name: field,
    'aria-invalid': errors[field] ? true : undefined,
    'aria-describedby': errors[field] ? `${ids[field]}-error` : hint ? `${ids[field]}-hint` : undefined,
    ref: (el: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement | null) => {
      refs.current[field] = el;
    },
  });

  // the card shows what the list below shows: the list is polled while anything is pending
  const createdStatus = (created && mine.data?.find((i) => i.id === created.id)?.status) ?? created?.status ?? 'pending';

  return (
    <>
      {created && (
        <div className="confirmation" role="status" tabIndex={-1} ref={confirmation} data-testid="inquiry-confirmation">
          <h2>Thanks — we have your inquiry</h2>
          <p>
            Inquiry <strong>#{created.id}</strong> is stored. Status: <StatusBadge status={createdStatus} />
          </p>
          {/* a copy is mailed only to the account's verified address, so promise the answer, not the copy */}
          <p className="muted small">We will answer at {created.email}, usually within one working day.</p>
        </div>
      )}
      <form className="card form" onSubmit={onSubmit} noValidate aria-label="Inquiry">
        <div className="field-grid">
          {row('name', 'Name', <input type="text" autoComplete="name" value={values.name} onChange={(e) => set('name', e.target.value)} {...a11y('name')} />)}
          {row(
            'email',
            'Email',
            <input type="email" autoComplete="email" inputMode="email" value={values.email} onChange={(e) => set('email', e.target.value)} {...a11y('email')} />,
          )}
          {row(
            'phone',
            'Phone (optional)',
            <input type="tel" autoComplete="tel" value={values.phone} onChange={(e) => set('phone', e.target.value)} {...a11y('phone', true)} />,
            'Only if you would like a call back.',
          )}
          {row(
            'category',
            'Category',
            <select value={values.category} onChange={(e) => set('category', e.target.value)} {...a11y('category')}>
              {CATEGORIES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>,
          )}
        </div>
        {row(
          'message',
          'Message',
          <textarea rows={6} value={values.message} onChange={(e) => set('message', e.target.value)} {...a11y('message')} />,
        )}
        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            {create.isPending ? 'Sending…' : 'Send inquiry'}
          </button>
        </div>
      </form>

      <section className="my-inquiries" aria-labelledby="my-inquiries-title">
        <h2 id="my-inquiries-title">Your inquiries</h2>
        {mine.isPending && <p className="muted">Loading…</p>}
        {mine.error && <p className="form-error">Could not load your inquiries: {mine.error.message}</p>}
        {mine.data && mine.data.length === 0 && <p className="muted">You have not sent any inquiries yet.</p>}
        {mine.data && mine.data.length > 0 && (
          <ul className="inquiry-list" data-testid="inquiry-list">
            {mine.data.map((i) => (
              <li key={i.id} className="inquiry-item" data-inquiry={i.id}>
                <div className="inquiry-top">
                  <span className="inquiry-category">{CATEGORIES.find((c) => c.value === i.category)?.label ?? i.category ?? 'General'}</span>
                  <StatusBadge status={i.status} />
                </div>
                <p className="inquiry-message">{i.message}</p>
                <p className="muted small">
                  #{i.id} · <time dateTime={i.createdAt}>{formatListTime(i.createdAt)}</time>
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
