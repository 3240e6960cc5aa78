"""Many rows in a few statements, through the driver.

For batches of hundreds or thousands of rows (a SendGrid webhook batch, the exposures it
records), building SQLAlchemy's parameters row by row costs more than the database's own
work. These inserts take plain tuples instead, convert only the columns whose type needs it,
and send them:
- on PostgreSQL, from COPY_FROM rows up, by COPY into a scratch table and one
  INSERT ... SELECT (about half the time of multi-row VALUES for 1,000 events here);
- otherwise by multi-row INSERT ... VALUES statements.
Either way one ON CONFLICT clause and one RETURNING apply to the whole batch.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Connection, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

COPY_FROM = 100  # rows; below this, setting up a COPY costs more than it saves
_MAX_VARIABLES = 30_000  # per statement, within SQLite's 32,766
_MAX_ROWS = 500  # per VALUES statement


def bind_converter(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """What the column type does to a value on its way to this database (None: nothing)."""
    return column_type.dialect_impl(dialect).bind_processor(dialect)


@dataclass(frozen=True)
class BulkInsert:
    """INSERT INTO table (columns) ... on_conflict RETURNING returning, for many rows."""

    table: Table
    columns: tuple[str, ...]
    on_conflict: str = ""  # e.g. "ON CONFLICT (provider_event_id) DO NOTHING"
    returning: tuple[str, ...] = ()
    # Rows go in in this order (their conflict key, say), so that two writers of the same
    # rows take their locks in the same order and cannot deadlock. Callers pass rows sorted
    # by it; COPY's INSERT ... SELECT sorts again, as a table scan promises no order.
    order_by: tuple[str, ...] = ()
    # Per dialect name: the (column index, converter) pairs of the columns that need one.
    _converters: dict[str, list[tuple[int, Callable[[Any], Any]]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # The statements are built from these names: only the table's own columns may appear.
        unknown = set(self.columns + self.returning + self.order_by) - set(self.table.c.keys())
        if unknown:
            raise ValueError(f"{self.table.name} has no column {', '.join(sorted(unknown))}")

    def __call__(self, session: Session, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Insert rows (tuples in `columns` order, Python values); the RETURNING rows."""
        if not rows:
            return []
        connection = session.connection()
        rows = self._converted(rows, connection.dialect)
        if connection.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
            return self._by_copy(connection, rows)
        return self._by_values(connection, rows)

    def _converted(
        self, rows: Sequence[Sequence[Any]], dialect: Dialect
    ) -> Sequence[Sequence[Any]]:
        converters = self._converters.get(dialect.name)
        if converters is None:  # worked out once per database: the open pixel calls this
            converters = self._converters[dialect.name] = [
                (index, convert)
                for index, name in enumerate(self.columns)
                if (convert := bind_converter(self.table.c[name].type, dialect)) is not None
            ]
        if not converters:
            return rows
        # Rows of a batch share many values (its time of arrival, events of the same second):
        # each distinct one is converted once.
        memos: list[dict[Any, Any] | None] = [
            None if isinstance(self.table.c[self.columns[index]].type, JSON) else {}
            for index, _convert in converters
        ]
        converted = []
        for row in rows:
            values = list(row)
            for (index, convert), memo in zip(converters, memos, strict=True):
                value = values[index]
                if value is None:
                    continue
                if memo is None:  # a JSON document: unhashable, and rarely repeated
                    values[index] = convert(value)
                elif value in memo:
                    values[index] = memo[value]
                else:
                    values[index] = memo[value] = convert(value)
            converted.append(values)
        return converted

    @property
    def _tail(self) -> str:
        returning = f" RETURNING {', '.join(self.returning)}" if self.returning else ""
        return f" {self.on_conflict}{returning}"

    def _by_values(
        self, connection: Connection, rows: Sequence[Sequence[Any]]
    ) -> list[tuple[Any, ...]]:
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        one = "(" + ", ".join([mark] * len(self.columns)) + ")"
        head = f"INSERT INTO {self.table.name} ({', '.join(self.columns)}) VALUES "  # noqa: S608
        step = max(1, min(_MAX_ROWS, _MAX_VARIABLES // len(self.columns)))
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            sql = head + ", ".join([one] * len(chunk)) + self._tail
            params = tuple(value for row in chunk for value in row)
            result = connection.exec_driver_sql(sql, params)
            if self.returning:
                found.extend(tuple(row) for row in result)
        return found

    def _by_copy(
        self, connection: Connection, rows: Sequence[Sequence[Any]]
    ) -> list[tuple[Any, ...]]:
        columns = ", ".join(self.columns)
        scratch = f"bulk_{self.table.name}_{zlib.crc32(columns.encode()):08x}"
        shape = f"SELECT {columns} FROM {self.table.name} WITH NO DATA"  # noqa: S608
        # Emptied at commit; the DELETE is for a second batch in the same transaction.
        empty = f"DELETE FROM {scratch}"  # noqa: S608
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {scratch} ON COMMIT DELETE ROWS AS {shape}; "
            + empty
        )
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {scratch} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        result = connection.exec_driver_sql(
            f"INSERT INTO {self.table.name} ({columns}) SELECT {columns} FROM {scratch}"  # noqa: S608
            + (f" ORDER BY {', '.join(self.order_by)}" if self.order_by else "")
            + self._tail
        )
        return [tuple(row) for row in result] if self.returning else []
