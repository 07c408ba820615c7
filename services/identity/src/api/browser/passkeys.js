// The identity pages' passkey buttons: the WebAuthn ceremonies run by @simplewebauthn/browser
// (served beside this file as webauthn.js), the answer posted back in a plain form so the
// server's redirect or error page follows as for any other sign-in.
(() => {
  const webauthn = window.SimpleWebAuthnBrowser;
  const form = document.getElementById('passkey-form');
  if (!form || !webauthn?.browserSupportsWebAuthn()) return;
  const error = document.getElementById('passkey-error');
  const fail = (message) => {
    error.textContent = message;
    error.hidden = false;
  };
  const submit = (answer) => {
    form.elements.response.value = JSON.stringify(answer);
    form.submit();
  };
  form.hidden = false;

  // Fetched for a sign-in (each try a new challenge), or given in the page to confirm a passkey.
  const signInOptions = async () => {
    if (!form.dataset.options) return JSON.parse(document.getElementById('passkey-options').textContent);
    const options = await fetch(form.dataset.options, { method: 'POST', credentials: 'same-origin' });
    const body = await options.json();
    if (!options.ok) throw new Error(body.detail ?? 'This sign-in has expired.');
    return body;
  };

  const signIn = document.getElementById('passkey-sign-in');
  signIn?.addEventListener('click', async () => {
    signIn.disabled = true;
    try {
      submit(await webauthn.startAuthentication({ optionsJSON: await signInOptions() }));
    } catch (err) {
      fail(err.name === 'NotAllowedError' ? 'The passkey was not used.' : err.message);
      signIn.disabled = false;
    }
  });

  const create = document.getElementById('passkey-create');
  create?.addEventListener('click', async () => {
    create.disabled = true;
    try {
      const optionsJSON = JSON.parse(document.getElementById('passkey-options').textContent);
      submit(await webauthn.startRegistration({ optionsJSON }));
    } catch (err) {
      fail(err.name === 'NotAllowedError' ? 'No passkey was created.' : err.message);
      create.disabled = false;
    }
  });
})();
