/**
 * Reading a key without it ever reaching argv (the process list) or shell history: from a pipe
 * with `--api-key-stdin`, or typed blind at a terminal (raw mode, nothing echoed).
 *
 * Hand-written rather than effect/cli's `Prompt.password`: that prompt ends with the same
 * QuitError for Ctrl-C and Ctrl-D, reads without a size bound and leaves the terminal to Node's
 * exit path, while here Ctrl-C must read as "cancelled", end of input as its own error, a hang-up
 * must restore the terminal, and input must stop at the domain's MAX_API_KEY_BYTES.
 */
import { LlmConfig } from "@fishbowl/domain"
import type { Readable, Writable } from "node:stream"

export type TtyInput = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown }

export type KeyInput =
  | { readonly _tag: "Entered"; readonly value: string }
  /** Ctrl-C at the prompt. */
  | { readonly _tag: "Cancelled" }
  /** Ctrl-D or a closed input with nothing typed. */
  | { readonly _tag: "EndOfInput" }
  /** More than MAX_API_KEY_BYTES arrived; reading stopped there. */
  | { readonly _tag: "TooLong" }
  /** The terminal went away (SIGHUP, or its input failed) while the prompt was open. */
  | { readonly _tag: "HangUp" }

/** A key may be followed by `\r\n`; anything longer than this is refused without reading on. */
const READ_LIMIT = LlmConfig.MAX_API_KEY_BYTES + 2

/**
 * Reads a key from a pipe: stops (and closes the input) as soon as more than the key bound
 * has arrived, so `yes | fishbowl-llm add …` cannot fill memory. Drops one trailing newline.
 */
export const readKeyFromPipe = (input: Readable, signal?: AbortSignal): Promise<KeyInput> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let settled = false
    const finish = (outcome: KeyInput) => {
      if (settled) return
      settled = true
      input.off("data", onData)
      input.off("end", onEnd)
      input.off("error", onError)
      for (const chunk of chunks) chunk.fill(0)
      resolve(outcome)
    }
    const onData = (data: Buffer | string) => {
      const chunk = typeof data === "string" ? Buffer.from(data) : data
      size += chunk.length
      chunks.push(chunk)
      if (size > READ_LIMIT) {
        input.pause()
        input.destroy()
        finish({ _tag: "TooLong" })
      }
    }
    const onEnd = () => {
      const buffer = Buffer.concat(chunks)
      const text = buffer.toString("utf8").replace(/\r?\n$/, "")
      buffer.fill(0)
      finish(text === "" ? { _tag: "EndOfInput" } : { _tag: "Entered", value: text })
    }
    const onError = () => finish({ _tag: "EndOfInput" })
    signal?.addEventListener("abort", () => finish({ _tag: "Cancelled" }), { once: true })
    input.on("data", onData)
    input.once("end", onEnd)
    input.once("error", onError)
  })

/**
 * Prompts on `output` (stderr) and reads one line from a TTY without echo. Enter submits,
 * Backspace deletes, Ctrl-U clears, Ctrl-C cancels, Ctrl-D on an empty line is end of input;
 * escape sequences (arrow keys) and other control characters are ignored.
 */
export const readKeyHidden = (question: string, input: TtyInput, output: Writable, signal?: AbortSignal): Promise<KeyInput> =>
  readTtyLine(question, input, output, { echo: false, maxBytes: LlmConfig.MAX_API_KEY_BYTES }, signal)

/** An answer to a yes/no question asked at a terminal. */
export type Confirmation = "yes" | "no" | "Cancelled" | "HangUp"

/**
 * Asks `question` on `output` and reads the answer at a TTY, echoed: `y` or `yes` (any case)
 * is yes; anything else, an empty line or end of input is no (the default). Ctrl-C cancels.
 */
export const readConfirmation = async (
  question: string,
  input: TtyInput,
  output: Writable,
  signal?: AbortSignal
): Promise<Confirmation> => {
  const answer = await readTtyLine(question, input, output, { echo: true, maxBytes: 16 }, signal)
  switch (answer._tag) {
    case "Entered":
      return /^y(es)?$/i.test(answer.value.trim()) ? "yes" : "no"
    case "Cancelled":
    case "HangUp":
      return answer._tag
    case "EndOfInput":
    case "TooLong":
      return "no"
  }
}

/** One line read at a TTY in raw mode (see readKeyHidden for the keys), echoed or not. */
const readTtyLine = (
  question: string,
  input: TtyInput,
  output: Writable,
  options: { readonly echo: boolean; readonly maxBytes: number },
  signal?: AbortSignal
): Promise<KeyInput> =>
  new Promise((resolve) => {
    if (input.isTTY !== true || input.setRawMode === undefined) {
      resolve({ _tag: "EndOfInput" })
      return
    }
    let value = ""
    let escape: "none" | "start" | "csi" = "none"
    let settled = false
    const restore = () => {
      try {
        input.setRawMode?.(false)
      } catch {
        // the terminal is gone; nothing to restore
      }
    }
    const finish = (outcome: KeyInput) => {
      if (settled) return
      settled = true
      restore()
      input.pause()
      input.off("data", onData)
      input.off("end", onEnd)
      input.off("error", onHangUp)
      process.off("SIGHUP", onHangUp)
      if (outcome._tag !== "HangUp") output.write("\n")
      value = ""
      resolve(outcome)
    }
    const onData = (data: Buffer) => {
      const text = data.toString("utf8")
      // A pasted key arrives in one chunk: zero it, like the pipe buffers.
      data.fill(0)
      for (const char of text) {
        if (escape === "start") {
          escape = char === "[" || char === "O" ? "csi" : "none"
          continue
        }
        if (escape === "csi") {
          if (char >= "@" && char <= "~") escape = "none"
          continue
        }
        if (char === "\r" || char === "\n") return finish(value === "" ? { _tag: "EndOfInput" } : { _tag: "Entered", value })
        if (char === "\u0003") return finish({ _tag: "Cancelled" })
        if (char === "\u0004") return finish(value === "" ? { _tag: "EndOfInput" } : { _tag: "Entered", value })
        if (char === "\u001b") escape = "start"
        else if (char === "\u007f" || char === "\b") {
          if (options.echo && value !== "") output.write("\b \b")
          value = [...value].slice(0, -1).join("")
        } else if (char === "\u0015") {
          if (options.echo) output.write("\b \b".repeat([...value].length))
          value = ""
        } // oxlint-disable-next-line no-control-regex
        else if (!/[\u0000-\u001f\u007f-\u009f]/.test(char)) {
          value += char
          if (options.echo) output.write(char)
          if (Buffer.byteLength(value, "utf8") > options.maxBytes) return finish({ _tag: "TooLong" })
        }
      }
    }
    // In raw mode Ctrl-D arrives as data: a terminal whose input ends (or fails with EIO) is gone.
    const onEnd = () => finish({ _tag: "HangUp" })
    const onHangUp = () => finish({ _tag: "HangUp" })
    process.once("SIGHUP", onHangUp)
    signal?.addEventListener("abort", () => finish({ _tag: "Cancelled" }), { once: true })
    input.once("error", onHangUp)
    input.once("end", onEnd)
    output.write(question)
    input.setRawMode(true)
    input.on("data", onData)
    input.resume()
  })

const textOf = async (input: Promise<KeyInput>): Promise<string> => {
  const outcome = await input
  if (outcome._tag === "Entered") return outcome.value
  throw new Error(outcome._tag === "Cancelled" ? "cancelled" : outcome._tag === "TooLong" ? "key too long" : "no key entered")
}

/** {@link readKeyFromPipe} as a plain string (rejects when nothing usable arrived). */
export const readSecretFromStdin = (input: Readable): Promise<string> => textOf(readKeyFromPipe(input))

/** {@link readKeyHidden} as a plain string (rejects on Ctrl-C, end of input or hang-up). */
export const promptHidden = (question: string, input: TtyInput, output: Writable): Promise<string> =>
  textOf(readKeyHidden(question, input, output))
