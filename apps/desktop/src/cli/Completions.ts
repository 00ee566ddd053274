/**
 * Shell completion: effect/cli writes the static script from the command tree; this module makes
 * it true for fishbowl-llm. Its install comment is replaced by lines that work as printed on a
 * fresh machine (the generated one names a `--completions` flag this CLI does not have), and it
 * completes what the tree cannot know: configuration names (`show <Tab>`) and provider ids
 * (`add --provider <Tab>`), both from `fishbowl-llm names …`, which reads preferences.json only —
 * never the keychain — and prints nothing but names.
 */

export type Shell = "bash" | "zsh" | "fish"

/** Commands whose one argument is a configuration's name. */
export const CONFIG_COMMANDS = ["show", "update", "test", "remove", "key"] as const

/** Install lines per shell, as the script and the README print them: each works on a fresh machine. */
export const installLines: Record<Shell, ReadonlyArray<string>> = {
  bash: [
    "mkdir -p ~/.local/share/bash-completion/completions",
    "fishbowl-llm completions bash > ~/.local/share/bash-completion/completions/fishbowl-llm",
    "(read by bash-completion in every new shell; without bash-completion: echo 'source <(fishbowl-llm completions bash)' >> ~/.bashrc)"
  ],
  zsh: [
    "mkdir -p ~/.zfunc",
    "fishbowl-llm completions zsh > ~/.zfunc/_fishbowl-llm",
    "echo 'fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit' >> ~/.zshrc"
  ],
  fish: [
    "mkdir -p ~/.config/fish/completions",
    "fishbowl-llm completions fish > ~/.config/fish/completions/fishbowl-llm.fish"
  ]
}

const installComment = (shell: Shell) => ["# Installation:", ...installLines[shell].map((line) => `#   ${line}`)].join("\n")

/** The `--data-dir` given on the line being completed is passed on, so names come from that folder. */
const bashDynamic = `
# Names and provider ids, from \`fishbowl-llm names\` (preferences.json only, never the keychain).
_fishbowl_llm_complete_names()
{
  local _kind="$1" _dir="" _i
  for ((_i = 1; _i < cword; _i++)); do
    [[ "\${words[_i]}" == --data-dir ]] && _dir="\${words[_i+1]}"
    [[ "\${words[_i]}" == --data-dir=* ]] && _dir="\${words[_i]#--data-dir=}"
  done
  local -a _names
  mapfile -t _names < <(command fishbowl-llm \${_dir:+--data-dir "$_dir"} names "$_kind" 2>/dev/null)
  _fishbowl_llm--choices "$cur" "$cur" "\${_names[@]}"
}

_fishbowl_llm_dynamic()
{
  local cur prev words cword i
  _init_completion -n "$COMP_WORDBREAKS" || return
  if [[ "$prev" == --provider ]]; then
    _fishbowl_llm_complete_names providers
    return
  fi
  local _sub="" _args=0 _skip=0
  for ((i = 1; i < cword; i++)); do
    if ((_skip)); then _skip=0; continue; fi
    case "\${words[i]}" in
      --data-dir|--name|--base-url|--provider|--from) _skip=1 ;;
      -*) ;;
      *) if [[ -z "$_sub" ]]; then _sub="\${words[i]}"; else ((_args++)); fi ;;
    esac
  done
  case "$_sub" in
    ${CONFIG_COMMANDS.join("|")})
      if [[ "$cur" != -* && $_args -eq 0 ]]; then
        _fishbowl_llm_complete_names configs
        return
      fi
      ;;
  esac
  _fishbowl_llm "$@"
}

complete -F _fishbowl_llm_dynamic fishbowl-llm
`

const zshNames = `
# Names and provider ids, from \`fishbowl-llm names\` (preferences.json only, never the keychain).
_fishbowl_llm_complete_names() {
  local -a names
  names=("\${(@f)$(command fishbowl-llm names $1 2>/dev/null)}")
  compadd -a names
}
`

const fishDynamic = `
# Names and provider ids, from \`fishbowl-llm names\` (preferences.json only, never the keychain).
complete -c fishbowl-llm -n '__fish_seen_subcommand_from ${
  CONFIG_COMMANDS.join(" ")
}; and not string match -q -- "-*" (commandline -ct)' -f -a '(command fishbowl-llm names configs 2>/dev/null)'
complete -c fishbowl-llm -n '__fish_seen_subcommand_from add; and __fish_prev_arg_in --provider' -f -a '(command fishbowl-llm names providers 2>/dev/null)'
`

const END = "###-end-fishbowl-llm-completions-###"

/** The generated installation comment (up to the first line that is not a comment). */
const GENERATED_INSTALL = /# Installation:\n(?:#.*\n)*?#\n/

/** effect/cli's script made true for fishbowl-llm (see the module comment). */
export const script = (shell: Shell, generated: string): string => {
  const withInstall = generated.replace(GENERATED_INSTALL, `${installComment(shell)}\n#\n`)
  switch (shell) {
    case "bash":
      // The generated `complete -F _fishbowl_llm` is replaced by the wrapper's registration.
      return withInstall
        .replace(/^complete -F _fishbowl_llm fishbowl-llm\n/m, "")
        .replace(END, `${bashDynamic.trimStart()}${END}`)
    case "zsh":
      return withInstall
        .replace(/(':Name \(any case\) or id of the configuration:)'/g, "$1_fishbowl_llm_complete_names configs'")
        .replace(/('\(--provider\)--provider\[[^\]]*\]:value:)'/g, "$1_fishbowl_llm_complete_names providers'")
        .replace("# Handle both direct invocation and autoload", `${zshNames.trim()}\n\n# Handle both direct invocation and autoload`)
    case "fish":
      return withInstall.replace(END, `${fishDynamic.trimStart()}${END}`)
  }
}
