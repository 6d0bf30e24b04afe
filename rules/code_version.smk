# Library code as a parameter of every script rule (included last, after every rule exists).
#
# A rule's output depends on its script and on the innerloop modules that script imports.
# Snakemake reruns a job when its script changes, but not when a library module does, so
# every script rule gets the parameter `code`: the hash of the sources of exactly the
# modules its script imports (innerloop.code_version.source_hash). Editing a module reruns
# the rules that import it and, through their outputs, what follows; a module no script of
# a rule imports leaves the rule's jobs alone. Per script rather than one hash of the whole
# package, so that changing a figure or a table does not retrain hundreds of networks.

from innerloop.code_version import source_hash as _source_hash

for _rule in list(workflow.rules):
    if _rule.script is not None:
        _rule.set_params(code=_source_hash(Path(workflow.basedir) / "workflow_scripts" / Path(_rule.script).name,
                                           workflow.basedir))
