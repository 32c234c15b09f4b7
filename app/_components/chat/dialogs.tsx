'use client';
/**
 * The conversation's dialogs: a confirmation (block, leave, delete) and the report form. Both
 * are modal <dialog>s, so the browser keeps focus inside, Esc cancels and focus returns to
 * where it was when they close.
 */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { REPORT_REASONS, type ReportReason } from '../../_lib/social-api';

function useModal(open: boolean) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return ref;
}

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm(): void;
  onCancel(): void;
}) {
  const ref = useModal(props.open);
  const titleId = useId();
  return (
    <dialog
      ref={ref}
      className="sheet-dialog"
      aria-labelledby={titleId}
      data-testid="confirm-dialog"
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id={titleId} className="dialog-title">
        {props.title}
      </h2>
      <div className="dialog-body">{props.children}</div>
      {props.error && (
        <p className="form-error" role="alert">
          {props.error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="btn btn-secondary" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" className={`btn ${props.danger ? 'btn-danger' : 'btn-primary'}`} onClick={props.onConfirm} aria-disabled={props.busy || undefined} autoFocus>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function ReportDialog(props: {
  open: boolean;
  /** what is reported, in words: "Bob" or "this message from Bob" */
  subject: string;
  busy?: boolean;
  error?: string | null;
  onSubmit(reason: ReportReason, note: string): void;
  onCancel(): void;
}) {
  const ref = useModal(props.open);
  const titleId = useId();
  const noteId = useId();
  const [reason, setReason] = useState<ReportReason | null>(null);
  const [note, setNote] = useState('');
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    if (props.open) {
      setReason(null);
      setNote('');
      setMissing(false);
    }
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      className="sheet-dialog"
      aria-labelledby={titleId}
      data-testid="report-dialog"
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (props.busy) return;
          if (!reason) return setMissing(true);
          props.onSubmit(reason, note.trim());
        }}
      >
        <h2 id={titleId} className="dialog-title">
          Report {props.subject}
        </h2>
        <fieldset className="report-reasons" aria-invalid={missing || undefined}>
          <legend>What is wrong?</legend>
          {REPORT_REASONS.map((r) => (
            <label key={r.value} className="report-reason">
              <input
                type="radio"
                name="reason"
                value={r.value}
                checked={reason === r.value}
                onChange={() => {
                  setReason(r.value);
                  setMissing(false);
                }}
              />
              {r.label}
            </label>
          ))}
        </fieldset>
        {missing && (
          <p className="form-error" role="alert">
            Choose what is wrong.
          </p>
        )}
        <label htmlFor={noteId} className="dialog-label">
          Anything our team should know? (optional)
        </label>
        <textarea id={noteId} className="dialog-note" rows={3} maxLength={1000} value={note} onChange={(e) => setNote(e.target.value)} />
        {props.error && (
          <p className="form-error" role="alert">
            {props.error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" className="btn btn-danger" aria-disabled={props.busy || undefined}>
            Send report
          </button>
        </div>
      </form>
    </dialog>
  );
}
