# bash completion for mthpsim. Source it (e.g. from ~/.bashrc): . completions/mthpsim.bash
# The command completes itself: System.CommandLine answers its [suggest:POSITION] directive with
# the words that fit at POSITION of the command line (without the program's name).
_mthpsim_complete() {
  local args="${COMP_LINE#* }"
  local position=$(( COMP_POINT - (${#COMP_LINE} - ${#args}) ))
  local IFS=$'\n'
  COMPREPLY=( $(compgen -W "$(mthpsim "[suggest:${position}]" "${args}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}") )
}
complete -o default -F _mthpsim_complete mthpsim
