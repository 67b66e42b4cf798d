/** Short-lived notices in the corner of the canvas; errors stay until dismissed. */

export function showMessage(text: string, kind: 'info' | 'error' = 'info'): HTMLElement {
  const box = document.getElementById('messages');
  const el = document.createElement('div');
  el.className = `message ${kind}`;
  el.textContent = text;
  const close = document.createElement('button');
  close.textContent = '×';
  close.title = 'Dismiss';
  close.addEventListener('click', () => el.remove());
  el.append(close);
  box?.append(el);
  if (kind === 'info') setTimeout(() => el.remove(), 5000);
  return el;
}

export function clearMessages(kind: 'info' | 'error'): void {
  for (const el of document.querySelectorAll(`#messages .message.${kind}`)) el.remove();
}

/** Opens the shared dialog with a title and body content. */
export function openDialog(title: string, body: Node): HTMLDialogElement {
  const dialog = document.getElementById('dialog') as HTMLDialogElement;
  (document.getElementById('dialog-title') as HTMLElement).textContent = title;
  (document.getElementById('dialog-body') as HTMLElement).replaceChildren(body);
  if (!dialog.open) dialog.showModal();
  return dialog;
}

export function button(label: string, onClick: () => void, className = ''): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (className) b.className = className;
  b.addEventListener('click', onClick);
  return b;
}
