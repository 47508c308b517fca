"""Weka's ARFF files as the benchmark tasks have them: a header, then one
record per line after @data, values quoted with ' or " and backslash
escapes, or bare. Shared by make-tasks.py and bow-baseline.py."""
import os


def read(path):
    """The header lines (through @data) and the record lines of a file."""
    with open(path, encoding="latin-1") as f:
        lines = f.read().split("\n")
    at = next(i for i, l in enumerate(lines) if l.strip().lower() == "@data")
    records = [l for l in lines[at + 1:] if l.strip() and not l.lstrip().startswith("%")]
    return lines[:at + 1], records


def write(path, header, records):
    """Header and records to `path`, through a temporary file."""
    with open(path + ".tmp", "w", encoding="latin-1") as f:
        f.write("\n".join(header) + "\n" + "\n".join(records) + "\n")
    os.replace(path + ".tmp", path)


def attributes(header):
    """The attributes' names, in order."""
    return [l.split()[1] for l in header if l.lower().startswith("@attribute")]


def values(record):
    """The values of one record, unescaped."""
    out, i = [], 0
    while i < len(record):
        while i < len(record) and record[i] in " \t":
            i += 1
        if i < len(record) and record[i] in "'\"":
            quote, i, chars = record[i], i + 1, []
            while record[i] != quote:
                if record[i] == "\\":
                    i += 1
                    chars.append({"n": "\n", "t": "\t", "r": "\r"}.get(record[i], record[i]))
                else:
                    chars.append(record[i])
                i += 1
            out.append("".join(chars))
            i += 1
        else:
            end = record.find(",", i)
            end = len(record) if end < 0 else end
            out.append(record[i:end].strip())
            i = end
        while i < len(record) and record[i] in " \t\r":
            i += 1
        i += 1  # The comma.
    return out
