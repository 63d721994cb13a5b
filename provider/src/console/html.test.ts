import { test } from "node:test";
import assert from "node:assert/strict";
import { html, query } from "./html";

test("html escapes every value, in text and in attributes, and trusts only its own fragments", () => {
  const evil = `<script>alert("x")</script>' onmouseover='x' \``;
  const page = html`<p title="${evil}">${evil}</p>${html`<b>${"&"}</b>`}${[html`<i>`, "<", html`</i>`]}`;
  assert.equal(
    page.text,
    "<p title=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &#96;\">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &#96;</p><b>&amp;</b><i>&lt;</i>",
  );
  assert.equal(html`${undefined}${null}${false}${0}`.text, "0");
});

test("query encodes each part and leaves out empty ones", () => {
  assert.equal(query({ q: "a&b=<c>", policy: "", grant: undefined }), "?q=a%26b%3D%3Cc%3E");
  assert.equal(query({}), "");
});
