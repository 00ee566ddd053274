import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted, Schema } from "effect"
import fc from "fast-check"
import * as Canonical from "../src/Canonical.ts"
import * as Liveness from "../src/Liveness.ts"
import * as LlmConfig from "../src/LlmConfig.ts"
import * as LlmConfigStore from "../src/LlmConfigStore.ts"
import * as PreferencesStore from "../src/PreferencesStore.ts"
import * as SecretStore from "../src/SecretStore.ts"
import * as Fixtures from "../src/testing/Fixtures.ts"

const href = (text: string) => {
  const check = Canonical.checkBaseUrl(text)
  return check._tag === "Ok" ? check.url.href : `refused: ${check.problem}`
}
const keyProblem = (key: string) => Canonical.apiKeyProblem(key, LlmConfig.MAX_API_KEY_BYTES, LlmConfig.utf8Length)

describe("canonical base URLs", () => {
  it("are stored as the parsed href: case, default port and IDN hosts normalised (punycode)", () => {
    assert.strictEqual(href("HTTPS://API.OpenAI.com:443/v1"), "https://api.openai.com/v1")
    assert.strictEqual(href("https://wоrk.example/v1"), "https://xn--wrk-sed.example/v1") // Cyrillic о
    assert.strictEqual(href("http://192.168.1.10:11434"), "http://192.168.1.10:11434/")
    assert.strictEqual(Schema.decodeUnknownSync(LlmConfig.BaseUrl)("  https://Proxy.Example.com/v1  "), "https://proxy.example.com/v1")
  })

  it("refuse control and invisible characters, backslashes, user info, fragments and credentials in the query", () => {
    for (
      const [text, expected] of [
        ["https://api.openai.com/v1\r\u001b[2K", "control or invisible"],
        ["https://api.openai.com/v1\u202e", "control or invisible"],
        ["http://localhost\\@evil.com/", "backslashes"],
        ["https://user:pass@api.example.com", "user name or password"],
        ["https://api.example.com/v1#sk-secret", "#fragment"],
        ["https://api.example.com/v1?key=sk-secret", "query string"],
        ["https://api.example.com/v1?api_key=sk-secret", "query string"],
        ["https://api.example.com/v1?access_token=sk-secret", "query string"],
        ["https://api.example.com/v1 ", "spaces"],
        ["ftp://files.example.com", "must use https"],
        ["api.example.com", "absolute URL"]
      ] as const
    ) {
      const check = Canonical.checkBaseUrl(text)
      assert.strictEqual(check._tag, "Refused", text)
      if (check._tag === "Refused") {
        assert.include(check.problem, expected, text)
        assert.notInclude(check.problem, "sk-secret", "a refusal never echoes the URL")
      }
    }
  })

  it("keep non-secret query parameters such as Azure's api-version", () => {
    assert.strictEqual(
      href("https://my.openai.azure.com/openai/deployments/gpt?api-version=2024-06-01"),
      "https://my.openai.azure.com/openai/deployments/gpt?api-version=2024-06-01"
    )
  })

  it("canonical(canonical(x)) = canonical(x), for any URL accepted", () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: false }), (url) => {
        const once = Canonical.checkBaseUrl(url)
        if (once._tag === "Refused") return
        const twice = Canonical.checkBaseUrl(once.url.href)
        assert.strictEqual(twice._tag, "Ok")
        if (twice._tag === "Ok") assert.strictEqual(twice.url.href, once.url.href)
      }),
      { numRuns: 500 }
    )
  })

  it("tell this machine, a private network and the internet apart", () => {
    const reach = Object.fromEntries(
      [
        "localhost",
        "LocalHost",
        "app.localhost",
        "app.localhost.",
        "127.0.0.1",
        "127.8.9.10",
        "[::1]",
        "192.168.1.10",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "100.64.0.1",
        "100.127.1.1",
        "169.254.10.10",
        "[fe80::1]",
        "[fd12:3456::1]",
        "[::ffff:192.168.0.5]",
        "nas",
        "nas.local",
        "server.lan",
        "box.home.arpa",
        "172.32.0.1",
        "100.128.0.1",
        "8.8.8.8",
        "api.openai.com",
        "[2001:4860:4860::8888]",
        "example.local.evil.com"
      ].map((host) => [host, Canonical.hostReach(host)])
    )
    assert.deepStrictEqual(reach, {
      // `*.localhost` goes to DNS here (`getent hosts foo.localhost` asks the resolver), so a
      // hostile network can point it anywhere: a private-network name, never this machine.
      "localhost": "loopback",
      "LocalHost": "loopback",
      "app.localhost": "private",
      "app.localhost.": "private",
      "127.0.0.1": "loopback",
      "127.8.9.10": "loopback",
      "[::1]": "loopback",
      "192.168.1.10": "private",
      "10.1.2.3": "private",
      "172.16.0.1": "private",
      "172.31.255.255": "private",
      "100.64.0.1": "private",
      "100.127.1.1": "private",
      "169.254.10.10": "private",
      "[fe80::1]": "private",
      "[fd12:3456::1]": "private",
      "[::ffff:192.168.0.5]": "private",
      "nas": "private",
      "nas.local": "private",
      "server.lan": "private",
      "box.home.arpa": "private",
      "172.32.0.1": "public",
      "100.128.0.1": "public",
      "8.8.8.8": "public",
      "api.openai.com": "public",
      "[2001:4860:4860::8888]": "public",
      "example.local.evil.com": "public"
    })
  })

  it("http: loopback always; a private network without a key or with consent; a public host never", () => {
    const url = (text: string) => {
      const check = Canonical.checkBaseUrl(text)
      if (check._tag !== "Ok") throw new Error(check.problem)
      return check.url
    }
    const rule = (text: string, hasKey: boolean, allowInsecureHttp: boolean) =>
      Canonical.insecureHttpProblem(url(text), { hasKey, allowInsecureHttp }) === undefined ? "ok" : "refused"
    assert.strictEqual(rule("http://localhost:11434", true, false), "ok")
    assert.strictEqual(rule("http://models.localhost:11434", true, false), "refused")
    assert.strictEqual(rule("http://models.localhost:11434", true, true), "ok")
    assert.strictEqual(rule("http://192.168.1.10:11434", false, false), "ok")
    assert.strictEqual(rule("http://192.168.1.10:11434", true, false), "refused")
    assert.strictEqual(rule("http://192.168.1.10:11434", true, true), "ok")
    assert.strictEqual(rule("http://100.100.7.7:4000/v1", true, true), "ok") // Tailscale
    assert.strictEqual(rule("http://api.example.com/v1", false, false), "refused")
    assert.strictEqual(rule("http://api.example.com/v1", true, true), "refused")
    assert.strictEqual(rule("https://api.example.com/v1", true, false), "ok")
  })
})

describe("canonical names", () => {
  it("lookalikes are one name: case, fullwidth, Cyrillic and Greek letters that look Latin", () => {
    const work = Canonical.nameKey("Work")
    for (
      const lookalike of ["work", "WORK", "W\u043erk", "\uff37\uff4f\uff52\uff4b", "\uff37\uff2f\uff32\uff2b", "  Work  ", "W\u03bfrk"]
    ) {
      assert.strictEqual(Canonical.nameKey(lookalike), work, JSON.stringify(lookalike))
    }
    assert.notStrictEqual(Canonical.nameKey("Home"), work)
    assert.notStrictEqual(Canonical.nameKey("Worker"), work)
  })

  it("nameKey(nameKey(x)) = nameKey(x) for any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (text) => {
        assert.strictEqual(Canonical.nameKey(Canonical.nameKey(text)), Canonical.nameKey(text))
      }),
      { numRuns: 2000 }
    )
  })

  it("refuse invisible, bidi-control and separator characters instead of dropping them", () => {
    for (const name of ["Wo\u200brk", "Work\u202e", "Wo\u2066rk", "Work\u2028Home", "Wo\ufeffrk", "Wo\u00adrk"]) {
      assert.isDefined(Canonical.nameProblem(name), JSON.stringify(name))
      assert.isTrue(Exit.isFailure(Schema.decodeUnknownExit(LlmConfig.ConfigName)(name)), JSON.stringify(name))
    }
    assert.isUndefined(Canonical.nameProblem("Lab Ω 工作 🔑"))
  })
})

describe("canonical keys", () => {
  it("refuse surrounding whitespace, BOM, invisible characters and lone surrogates, saying which, never trimming", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      [" sk-canary-1234", "starts or ends with a space"],
      ["sk-canary-1234\n", "starts or ends with a space"],
      ["\ufeffsk-canary-1234", "byte-order mark"],
      ["sk-canary\u200b-1234", "invisible character"],
      ["sk-canary\u2060-1234", "invisible character"],
      ["sk-canary-\ud800", "unpaired surrogate"],
      ["sk-canary-\udc00x", "unpaired surrogate"],
      // A header value is a ByteString read as ASCII (fetch throws on anything above U+00FF): such
      // a key could never be sent, so it is refused when it is saved, not reported as a network error.
      ["sk-canary-pässwörd", "HTTP header cannot carry"],
      ["sk-canary-🔐", "HTTP header cannot carry"],
      ["sk-canary-\u00a0x", "HTTP header cannot carry"]
    ]
    for (const [key, expected] of cases) {
      const problem = keyProblem(key)
      assert.include(problem ?? "", expected, JSON.stringify(key))
      assert.notInclude(problem ?? "", "canary")
    }
    assert.isUndefined(keyProblem("sk-proj-AbC123_-xyz"))
    assert.isUndefined(keyProblem("sk-ant-api03-AbC~!@#$%^&*()+=[]{}|;:',.<>/?`\" x")) // printable ASCII, inner space
  })

  it("the input schema applies them, and its error does not echo the key", () => {
    const exit = Schema.decodeUnknownExit(LlmConfig.LlmConfigInput)({ provider: "openai", name: "Work", apiKey: " sk-canary-echo " })
    assert.isTrue(Exit.isFailure(exit))
    assert.notInclude(String(exit), "sk-canary-echo")
  })
})

describe("the store applies the http rule with the key it will hold", () => {
  const layer = LlmConfigStore.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(SecretStore.layerMemory, PreferencesStore.layerMemory, Liveness.layerMemory))
  )
  const run = <A, E>(effect: Effect.Effect<A, E, LlmConfigStore.LlmConfigStore>) => Effect.runPromise(Effect.provide(effect, layer))

  it("Ollama on a home server with no key is accepted; a keyed config on plain http needs consent, which is stored", () =>
    run(Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const ollama = yield* store.create(
        Fixtures.configInput({ provider: "ollama", name: "Home server", baseUrl: "http://192.168.1.10:11434" })
      )
      assert.strictEqual(ollama.baseUrl, "http://192.168.1.10:11434/")
      const refused = yield* Effect.flip(
        store.create(
          Fixtures.configInput({
            provider: "openai-compatible",
            name: "LAN vLLM",
            baseUrl: "http://10.0.0.5:8000/v1",
            apiKey: "sk-lan-key"
          })
        )
      )
      assert.strictEqual(refused._tag, "InvalidInput")
      assert.strictEqual(refused._tag === "InvalidInput" && refused.field, "baseUrl")
      const consented = yield* store.create({
        ...Fixtures.configInput({
          provider: "openai-compatible",
          name: "LAN vLLM",
          baseUrl: "http://10.0.0.5:8000/v1",
          apiKey: "sk-lan-key"
        }),
        allowInsecureHttp: true
      })
      assert.isTrue(consented.allowInsecureHttp)
      assert.strictEqual(Redacted.value(yield* store.getApiKey(consented.id)), "sk-lan-key")
      // plain http to a public host never even decodes, consent or not
      const publicHttp = Schema.decodeUnknownExit(LlmConfig.LlmConfigInput)({
        provider: "openai-compatible",
        name: "Public",
        baseUrl: "http://api.example.com/v1",
        apiKey: "sk-pub",
        allowInsecureHttp: true
      })
      assert.isTrue(Exit.isFailure(publicHttp))
    })))
})
