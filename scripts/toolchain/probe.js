// The control for the CSP pages: code generation must be refused here and
// the refusal reported, or the check could not see a slot that compiles code.
let blocked = false;
try {
  new Function('return 1')();
} catch (e) {
  blocked = e instanceof EvalError;
}
document.getElementById('out').textContent = `new Function blocked: ${blocked}\n`;
document.body.dataset.done = 'ok';
