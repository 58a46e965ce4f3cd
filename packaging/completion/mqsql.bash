# bash completion for mqsql: commands, flags, and files where a flag takes one.
_mqsql() {
    local cur prev words cword
    _init_completion || return
    local common="--spool --mta --db --help"
    local query="$common --no-cache --format --header --bail --version --poll --reconcile --retention --dry-run --yes --force --backup --no-backup --include-active"
    local watch="$common --poll --reconcile --retention --listen --web.config.file --metrics --deferred-domains"
    local restore="--spool --mta --db --backup --again --wait --help"
    case $prev in
        --spool|--backup) _filedir -d; return ;;
        --db|--metrics|--web.config.file) _filedir; return ;;
        --format) COMPREPLY=($(compgen -W "table csv tsv json jsonl line markdown list" -- "$cur")); return ;;
        --mta) COMPREPLY=($(compgen -W "postfix sendmail exim auto" -- "$cur")); return ;;
    esac
    case ${words[1]} in
        watch) COMPREPLY=($(compgen -W "$watch" -- "$cur")); return ;;
        restore) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "$restore" -- "$cur")) || _filedir -d; return ;;
        version) return ;;
    esac
    if [[ $cword -eq 1 && $cur != -* ]]; then
        COMPREPLY=($(compgen -W "watch restore version" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$query" -- "$cur"))
    fi
}
complete -F _mqsql mqsql
