/* notifyme: likely typos in an email's domain ("jane@gmial.con" -> "jane@gmail.com") for
   notify-me.js's "Did you mean ...?" hint: a suggestion with a one-click fix, never a correction.
   notifyme/subscriptions/typos.py runs the same rules on the server (the `email_suggestion`
   of its answer); tests/subscriptions/test_typos.py keeps these lists equal to its own. */
(() => {
const DOMAINS = [
  'gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'icloud.com', 'aol.com', 'live.com',
  'msn.com', 'me.com', 'mac.com', 'googlemail.com', 'protonmail.com', 'proton.me', 'mail.com',
  'gmx.com', 'gmx.net', 'gmx.de', 'gmx.at', 'gmx.ch', 'gmx.fr', 'web.de', 't-online.de',
  'freenet.de', 'yahoo.de', 'hotmail.de', 'outlook.de', 'yahoo.fr', 'hotmail.fr', 'outlook.fr',
  'orange.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'wanadoo.fr', 'yahoo.es', 'hotmail.es',
  'outlook.es', 'yahoo.it', 'hotmail.it', 'libero.it', 'yahoo.co.uk', 'hotmail.co.uk',
  'btinternet.com', 'comcast.net', 'verizon.net', 'att.net', 'sbcglobal.net', 'ymail.com',
  'rocketmail.com', 'yandex.ru', 'mail.ru', 'qq.com', 'zoho.com', 'fastmail.com', 'hey.com',
  'email.com',
];
const COM_TYPOS = ['c0m', 'cim', 'cin', 'ckm', 'clm', 'cmo', 'cok', 'comm', 'comn', 'con', 'coom', 'copm', 'cpm', 'ocm', 'vom', 'xom'];
const NET_TYPOS = ['ent', 'met', 'ner', 'nett', 'nte'];
// Optimal string alignment distance: a swap of two neighbours ("gmial") is one edit.
const dist = (a, b) => {
  let p2 = [], p = [...Array(b.length + 1).keys()];
  for (let i = 1; i <= a.length; i++) {
    const c = [i];
    for (let j = 1; j <= b.length; j++) {
      c[j] = Math.min(p[j] + 1, c[j - 1] + 1, p[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) c[j] = Math.min(c[j], p2[j - 2] + 1);
    }
    [p2, p] = [p, c];
  }
  return p[b.length];
};
const halves = (d) => {
  const i = d.indexOf('.');
  return [d.slice(0, i), d.slice(i + 1)];
};
const suggest = (value) => {
  value = value.trim();
  const at = value.lastIndexOf('@');
  const domain = value.slice(at + 1).trim().toLowerCase().replace(/\.+$/, '');
  if (at < 1 || !domain.includes('.') || DOMAINS.includes(domain)) return '';
  const [name, suffix] = halves(domain);
  let best = '', least = 3;
  for (const known of DOMAINS) {
    const [kn, ks] = halves(known);
    const dn = dist(name, kn), ds = dist(suffix, ks);
    // None for names of 4 letters or fewer, one up to 6, two beyond; no country swapped for another
    if (dn > (kn.length <= 4 ? 0 : kn.length <= 6 ? 1 : 2) || ds > 1) continue;
    if (suffix != ks && suffix.length == 2 && ks.length == 2) continue;
    if (dn + ds < least) [least, best] = [dn + ds, known];
  }
  const i = domain.lastIndexOf('.'), head = domain.slice(0, i), tld = domain.slice(i + 1);
  if (!best && head) best = COM_TYPOS.includes(tld) ? head + '.com' : NET_TYPOS.includes(tld) ? head + '.net' : '';
  return best && value.slice(0, at) + '@' + best;
};

window.notifymeSuggest = suggest;
})();
