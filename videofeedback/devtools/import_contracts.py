"""A custom import-linter contract: forbid a *submodule* of an external package.

import-linter's own 'forbidden' contract only takes top-level external packages, but our
rule is finer: the core may use QtCore/QtGui/QtMultimedia, never QtWidgets. grimp records
external imports under the top-level name, so this contract reads each import's source line.
Loaded by lint-imports only (see pyproject.toml); nothing at run time imports it.
"""

from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class ForbiddenSubmoduleContract(Contract):
    source_modules = fields.ListField(subfield=fields.StringField())
    forbidden = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose):  # type: ignore[no-untyped-def]
        found = []
        forbidden: list[str] = list(self.forbidden)  # type: ignore[call-overload]
        sources: list[str] = list(self.source_modules)  # type: ignore[call-overload]
        for source in sources:
            importers = {source} | graph.find_descendants(source)
            for importer in sorted(importers):
                for module in sorted(graph.find_modules_directly_imported_by(importer)):
                    for target in forbidden:
                        if module != target.split(".")[0]:
                            continue
                        for detail in graph.get_import_details(importer=importer, imported=module):
                            if target in detail["line_contents"]:
                                found.append(
                                    f"{importer}:{detail['line_number']}: {detail['line_contents']}"
                                )
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check):  # type: ignore[no-untyped-def]
        for line in check.metadata["found"]:
            output.print_error(f"forbidden import {line}", bold=False)
