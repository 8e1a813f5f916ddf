// Rotor operations console: signs in the browser with the operator's key file (WebCrypto Ed25519).
// The private key is read from the file the operator picks, used for one signature and dropped: it is never sent,
// never stored (no localStorage, no cookie), and only the public key and the signature are posted.
'use strict';
(function () {
  const PKCS8_ED25519 = '302e020100300506032b657004220420';

  function hexToBytes(hex) {
    if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error('not hex');
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
    return out;
  }
  function bytesToHex(bytes) {
    return Array.from(new Uint8Array(bytes), b => b.toString(16).padStart(2, '0')).join('');
  }
  function b64ToBytes(b64) {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  // Reads an operator key file (JSON of `rotor operator keygen`); returns {publicKey, key: CryptoKey}.
  async function loadKey(file) {
    let text;
    try { text = await file.text(); } catch (e) { throw new Error('the key file could not be read'); }
    let o;
    try { o = JSON.parse(text); } catch (e) { throw new Error('this is not an operator key file (not JSON)'); }
    if (!o || o.kind !== 'rotor-operator-key') throw new Error('this is not an operator key file (kind is not rotor-operator-key)');
    if (typeof o.seed !== 'string') {
      if (o.sealed) throw new Error('this key file is sealed with a passphrase; the console cannot open sealed keys in the browser: approve with `rotor approve ID --key FILE`, or use an unsealed key file');
      throw new Error('the key file has no private key');
    }
    let seed;
    try { seed = hexToBytes(o.seed); } catch (e) { throw new Error('the key file\'s seed is not hex'); }
    if (seed.length !== 32) throw new Error('the key file\'s seed is not 32 bytes');
    const pkcs8 = new Uint8Array(48);
    pkcs8.set(hexToBytes(PKCS8_ED25519), 0);
    pkcs8.set(seed, 16);
    seed.fill(0);
    let key;
    try {
      key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
    } catch (e) {
      throw new Error('this browser cannot use Ed25519 keys (WebCrypto): ' + e.message);
    } finally { pkcs8.fill(0); }
    return { publicKey: String(o.publicKey || ''), key: key };
  }

  function wire(form, message) {
    const input = form.querySelector('input[type=file]');
    const error = form.querySelector('.field-error[data-for=keyfile]');
    form.addEventListener('submit', async function (ev) {
      if (form.dataset.signed === '1') return;
      ev.preventDefault();
      error.textContent = '';
      try {
        if (!input.files || input.files.length !== 1) throw new Error('choose your operator key file');
        const k = await loadKey(input.files[0]);
        const sig = await crypto.subtle.sign({ name: 'Ed25519' }, k.key, message());
        form.querySelector('input[name=key]').value = k.publicKey;
        form.querySelector('input[name=signature]').value = bytesToHex(sig);
        input.value = '';
        form.dataset.signed = '1';
        form.submit();
      } catch (e) {
        error.textContent = e.message;
      }
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    const signin = document.getElementById('signin-form');
    if (signin) wire(signin, () => new TextEncoder().encode(signin.dataset.challenge));
    const approve = document.getElementById('approve-form');
    if (approve) {
      // Exactly what `rotor approve` signs: "rotor/approval/v1\n" followed by the canonical description's bytes.
      wire(approve, () => {
        const domain = new TextEncoder().encode('rotor/approval/v1\n');
        const description = b64ToBytes(approve.dataset.description);
        const all = new Uint8Array(domain.length + description.length);
        all.set(domain, 0);
        all.set(description, domain.length);
        return all;
      });
    }
    const when = document.querySelectorAll('input[name=when]');
    const windowFields = document.getElementById('window-fields');
    if (windowFields && when.length) {
      const sync = () => { windowFields.hidden = !document.querySelector('input[name=when][value=window]').checked; };
      when.forEach(r => r.addEventListener('change', sync));
      sync();
    }
  });
})();
