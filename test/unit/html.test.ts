// The one way the console writes HTML: every value escaped unless it is markup made by `html`.
import { describe, expect, it } from 'vitest';
import { Html, html, joinHtml } from '../../src/web/html.js';

describe('html`…`', () => {
  it('escapes every value, whatever it is, unless it is markup html made', () => {
    const name = `"><script>alert('x')</script>`;
    const page = html`<a title="${name}">${name}</a>${html`<b>${'&'}</b>`}`;
    expect(page).toBeInstanceOf(Html);
    expect(page.text).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;">' +
        '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</a><b>&amp;</b>',
    );
    // A string that looks like markup is text: only an Html is written as it is.
    expect(html`${'<b>bold</b>'}`.text).toBe('&lt;b&gt;bold&lt;/b&gt;');
  });

  it('writes lists, numbers and nothing; keeps a value’s whitespace and folds the source’s', () => {
    const items = [html`<li>${1}</li>`, html`<li>${'two'}</li>`];
    expect(
      html`<ul>
        ${items}${null}${undefined}${false}
      </ul>`.text,
    ).toBe('<ul> <li>1</li><li>two</li> </ul>');
    expect(html`<pre>${'a\n  b'}</pre>`.text).toBe('<pre>a\n  b</pre>');
    expect(joinHtml([html`<i>x</i>`, 'y<'], ', ').text).toBe('<i>x</i>, y&lt;');
  });
});
