/**
 * Reading a key without echo. On a TTY the key is typed blind (raw mode, no characters written);
 * with `--api-key-stdin` it is read from a pipe. Either way it never reaches argv, where other
 * users could see it in the process list, or shell history.
 */
import type { Readable, Writable } from "node:stream"

type TtyInput = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown }

/** Reads all of stdin and drops one trailing newline (what `echo` and heredocs add). */
export const readSecretFromStdin = async (input: Readable): Promise<string> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of input) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk)
  const buffer = Buffer.concat(chunks)
  const text = buffer.toString("utf8").replace(/\r?\n$/, "")
  buffer.fill(0)
  for (const chunk of chunks) chunk.fill(0)
  return text
}

/** Prompts on `output` and reads one line from a TTY without echoing it. */
export const promptHidden = (question: string, input: TtyInput, output: Writable): Promise<string> =>
  new Promise((resolve, reject) => {
    if (input.isTTY !== true || input.setRawMode === undefined) {
      reject(new Error("not a terminal"))
      return
    }
    output.write(question)
    let value = ""
    input.setRawMode(true)
    input.resume()
    const finish = (error?: Error) => {
      input.setRawMode?.(false)
      input.pause()
      input.off("data", onData)
      output.write("\n")
      if (error) reject(error)
      else resolve(value)
    }
    const onData = (data: Buffer) => {
      const text = data.toString("utf8")
      // A pasted key arrives in one chunk: zero it, like the --api-key-stdin buffers.
      data.fill(0)
      for (const char of text) {
        if (char === "\r" || char === "\n") return finish()
        if (char === "\u0003") return finish(new Error("cancelled"))
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1)
        else value += char
      }
    }
    input.on("data", onData)
  })
