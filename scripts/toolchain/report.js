// A classic script, so it runs before the module: lists CSP violations in
// the page for toolchain-check.mjs, and marks the page done on an uncaught
// error so the check need not wait for a timeout (it gets the error itself).

function genptList(id, line) {
  const li = document.createElement('li');
  li.textContent = line;
  document.getElementById(id).append(li);
}
document.addEventListener('securitypolicyviolation', (e) => {
  genptList('csp', `${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
});
window.addEventListener('error', (e) => {
  genptList('errors', String(e.message));
  document.body.dataset.done = 'error';
});
