# tests/unit/gen_numfmt_cases.py - writes numfmt_cases.h, CPython's answers for test_numfmt.c.
# Run: python3.11 tests/unit/gen_numfmt_cases.py [scale] > tests/unit/numfmt_cases.h
import math
import random
import struct
import sys

# Scales the random sections; the checked-in table uses 1.
SCALE = int(sys.argv[1]) if len(sys.argv) > 1 else 1
rng = random.Random(20240611)


def bits(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


def from_bits(b):
    return struct.unpack('<d', struct.pack('<Q', b))[0]


def cstr(s):
    data = s.encode('utf-8', 'surrogatepass') if isinstance(s, str) else s
    out = []
    for byte in data:
        c = chr(byte)
        if c in '"\\?':
            out.append('\\' + c)
        elif 32 <= byte < 127:
            out.append(c)
        else:
            out.append('\\%03o' % byte)
    return '"' + ''.join(out) + '"'


def clen(s):
    return len(s.encode('utf-8', 'surrogatepass'))


def i64(v):
    if v == -2**63:
        return 'INT64_MIN'
    return 'INT64_C(%d)' % v


def u64(b):
    return 'UINT64_C(0x%016x)' % b


def random_double():
    while True:
        x = from_bits(rng.getrandbits(64))
        if math.isfinite(x):
            return x


def nice_double():
    kind = rng.randrange(5)
    if kind == 0:
        return round(rng.uniform(-1e6, 1e6), rng.randint(0, 8))
    if kind == 1:
        return rng.randint(-10**12, 10**12) / 10**rng.randint(0, 15)
    if kind == 2:
        return rng.uniform(-1, 1) * 10.0**rng.randint(-30, 30)
    if kind == 3:
        return float(rng.randint(-10**17, 10**17))
    return rng.choice([1, -1]) * 2.0**rng.randint(-1074, 1023)


out = []
emit = out.append
counts = {}


def table(name, ctype, rows):
    counts[name] = len(rows)
    emit('static const %s %s[] = {' % (ctype, name))
    for row in rows:
        emit('    {%s},' % ', '.join(row))
    emit('};')
    emit('')


# --- repr -----------------------------------------------------------------
repr_values = [0.0, -0.0, 1.0, -1.0, 0.1, 0.1 + 0.2, 1e16, 1e15, 9999999999999998.0,
               1e-5, 1e-4, 0.0001, 0.00012, 1.5e-7, 5e-324, -5e-324, 2.2250738585072014e-308,
               1.7976931348623157e308, -1.7976931348623157e308, 123456789.123,
               123456789012345.0, 1234567890123456.0, 12345678901234567.0, 2.0**63, 2.0**53,
               2.0**53 + 2, 2e16 + 8, 100.0, 1e22, 1e23, 0.3, 2.675, 1 / 3, 2 / 3, math.pi,
               math.e, float('inf'), float('-inf'), float('nan'), 1e100, 1e-100, 4.35,
               0.5, 1.25, 1e-310, 9.5, 1e300 * 10]
for k in range(-1074, 1024, 7):
    repr_values.append(2.0**k)
for k in range(-320, 309, 11):
    repr_values.append(float('1e%d' % k))
for _ in range(150 * SCALE):
    repr_values.append(random_double())
for _ in range(150 * SCALE):
    repr_values.append(nice_double())
table('REPR_CASES', 'ReprCase', [[u64(bits(x)), cstr(repr(x))] for x in repr_values])

# --- format ---------------------------------------------------------------
INTS = [0, 1, -1, 5, 9, 42, -42, 65, 255, -255, 1234, -1234, 1234567, -1234567,
        2**31, 0x1F600, 10**15, 2**63 - 1, -2**63]
FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, 0.1, -0.1, 1234.5, 1234567.891, 1e16,
          1e-5, 1e-7, 123456789.123, 1e300, 1e-300, 5e-324, 1.7976931348623157e308,
          float('inf'), float('-inf'), float('nan'), 3.14159, 2.675, 0.125, 1e22,
          12345678901234567890.0, 0.000123456, 99.99, 9.9999, 100.0, 1e100, -1e-9,
          0.0005, 999999.5, -float('nan')]
STRS = ['', 'a', 'abc', 'hello world', 'h\u00e9llo', '\u65e5\u672c\u8a9e', '\u20ac',
        'x' * 20, '\U0001F600ab']

FILLS = ['', '', '', '<', '>', '^', '=', '*<', '*>', '*^', '*=', '0<', '0>', '0=',
         '0^', '\u20ac^', ' >', 'x=', '\u00e9<']
SIGNS = ['', '', '+', '-', ' ']
WIDTHS = ['', '', '1', '8', '15', '25']
GROUPS = ['', '', ',', '_']
PRECS = ['', '', '.0', '.1', '.3', '.10', '.17', '.30']
TYPES = {
    'int': ['', 'd', 'b', 'o', 'x', 'X', 'c', 'n', 'e', 'E', 'f', 'F', 'g', 'G', '%', 's'],
    'float': ['', 'e', 'E', 'f', 'F', 'g', 'G', '%', 'n', 'd'],
    'str': ['', 's', 'd'],
}


def random_spec(kind):
    p = rng.random
    parts = [rng.choice(FILLS), rng.choice(SIGNS)]
    if p() < 0.05:
        parts.append('z')
    if p() < 0.2:
        parts.append('#')
    if p() < 0.2:
        parts.append('0')
    parts.append(rng.choice(WIDTHS))
    parts.append(rng.choice(GROUPS))
    if kind != 'int' or p() < 0.1:
        parts.append(rng.choice(PRECS))
    parts.append(rng.choice(TYPES[kind]))
    if kind == 'str':
        # mostly keep string specs legal
        if p() < 0.8:
            parts[1] = ''
            parts = [x for x in parts if x not in ('#', 'z')]
            if parts[0].endswith('='):
                parts[0] = ''
    return ''.join(parts)


HAND_SPECS = [
    '', '.3', '.2', '.0', '.1', '.17', '.16', '+.3', '#', '#.0', '#.3', '010,', '08,', '0=10,',
    '09,', '07,', '011,.2f', '0=11_.1f', '_x', '_X', '#_b', '#_o', '#_x', '#010_x', '#X', '#o',
    ',.2f', '_.3e', ',g', ',%', '.0%', '.1%', '#.0f', '#.0e', '#g', '#.3g', '#.10g', ' 10.2f',
    '=+10.2f', '^+11,.2f', '\u20ac>10', '\u20ac^9', '0', '00', '05', '010', '-010', '+010',
    ' 010', '<05', '>05', '^05', '=05', 'x<05', '0<5', '0>5', '0^7', '*^7', '+', '-', ' ', ',',
    '_', '=', '^', '<', '>', 'n', '010n', 'c', '5c', '<5c', '^5c', '=5c', '05c', '.5', '.5g',
    '.5e', '.5f', '.5%', '.5G', '.5E', '.5F', '.30f', '.50e', '.20g', '#.20g', 'z', 'z.1f',
    'zf', 'z.0f', 'z.3e', 'zg', 'z%', '+z.2f', 'z010.1f', 'e', 'E', 'f', 'F', 'g', 'G', '%',
    'd', 'b', 'o', 'x', 'X', 's', '10s', '<10s', '>10s', '^10s', '*^10s', '.2s', '10.2s', '.0s',
    '\u0665', '\u0661\u0660', '.\u0662f', '.\u0662', '1\u0660d',
    'zz', '0z5', '..', '.', '.f', ',,', ',_', '_,', ',_d', '_,d', ',x', '_n', ',n', ',c', ',s',
    '_s', '_c', ',b', ',o', ',X', ',r', 'r', 'a', 'zz5', '99999999999999999999',
    '.99999999999999999999', '.2147483648f', '.2147483648', '.2147483647s', '5.2.2', '\u00e9',
    ',\u00e9', '<<<', 'dd', '10.2fg', '+s', ' s', '-s', '#s', '=s', 'zs', 'z', '#c', '+c', '-c',
    ' c', '.2c', '.2d', '.2x', '=10c', ',\u00e9\u00e9', '\u00e9\u00e9', ',\x01', '\x01', 'x<',
    '*=', '*=+#012,.3', ' <', '.3\u00e9', '<.3\u00e9x', '\u20ac', '\u20ac\u20ac', ',d', '_d',
    '%x', 'n,', '.100e', '.350f', '.120g', '#.120g', '+.0e', '#.0%', '.0g', '#.0g', '#.1',
    '<<5', '==5', '>>5', '^^5', '0=+#10_x', '\u20ac=+#12,', ' =+8',
]

format_rows = []


def add_format(kind, value, spec):
    try:
        res = format(value, spec)
        ok = True
    except (ValueError, OverflowError) as e:
        res = str(e)
        ok = False
    if kind == 'int':
        row = ["'i'", i64(value), '0', 'NULL']
    elif kind == 'bool':
        row = ["'b'", i64(int(value)), '0', 'NULL']
    elif kind == 'float':
        row = ["'f'", '0', u64(bits(value)), 'NULL']
    else:
        row = ["'s'", '0', '0', cstr(value)]
    row += [cstr(spec), 'true' if ok else 'false', cstr(res)]
    format_rows.append(row)


for kind, values in (('int', INTS), ('float', FLOATS), ('str', STRS)):
    for v in values:
        for t in TYPES[kind] + ['10', '<10', '^12', '+', '#', ',']:
            add_format(kind, v, t)
    for spec in HAND_SPECS:
        picks = rng.sample(values, 3)
        for v in picks:
            add_format(kind, v, spec)
    for _ in range(400 * SCALE):
        add_format(kind, rng.choice(values), random_spec(kind))
for _ in range(100 * SCALE):
    add_format('float', random_double(), random_spec('float'))
    add_format('float', nice_double(), random_spec('float'))
    add_format('int', rng.randint(-2**63, 2**63 - 1), random_spec('int'))
# format(True, '') is str(True): the caller's business, not numfmt's.
for spec in ['d', '0z5', 's', 'x', '#x', '5', ',', '.2f', 'zz', 'c', '+']:
    add_format('bool', True, spec)
    add_format('bool', False, spec)
table('FORMAT_CASES', 'FormatCase', format_rows)

# --- int() ----------------------------------------------------------------
INT_TEXTS = [
    ('0', 10), ('123', 10), ('-123', 10), ('+5', 10), ('  42  ', 10), ('\t\n42\r\x0c\x0b', 10),
    ('1_000', 10), ('1__000', 10), ('_1', 10), ('1_', 10), ('1_0_0', 0), ('0x1f', 0),
    ('0x1f', 16), ('0x1f', 10), ('0X1F', 0), ('0x1F', 16), ('0b101', 0), ('0b101', 2),
    ('0b101', 16), ('0B11', 0), ('0o17', 0), ('0o17', 8), ('0O17', 8), ('0o17', 10),
    ('010', 0), ('010', 10), ('010', 8), ('00', 0), ('0_0', 0), ('0_1', 0), ('0x', 0),
    ('0x', 16), ('0x_1f', 0), ('0x__1f', 0), ('0x1f_', 0), ('0_x1f', 0), ('0b', 2),
    ('0b1_0', 0), ('0o', 8), ('9223372036854775807', 10), ('9223372036854775808', 10),
    ('-9223372036854775808', 10), ('-9223372036854775809', 10), ('99999999999999999999999', 10),
    ('-99999999999999999999999', 0), ('0x7fffffffffffffff', 0), ('0x8000000000000000', 0),
    ('-0x8000000000000000', 0), ('-0x8000000000000001', 0), ('1' * 64, 2), ('1' * 63, 2),
    ('-1' + '0' * 63, 2), ('z', 36), ('Z', 36), ('zz', 36), ('-zZ', 36), ('12', 2), ('2', 2),
    ('', 10), (' ', 10), ('-', 10), ('+', 10), ('+-1', 10), ('-+1', 10), ('- 1', 10), ('1 2', 10),
    ('\u0661\u0662\u0663', 10), ('\u00a042\u3000', 10), ('\x851', 10), ('\x1c1', 10),
    ('1\x00', 10), ('\x001', 10), ('1e5', 10), ('1.0', 10), ('ff', 16), ('FF', 16), ('-0', 10),
    ('-0x10', 0), ('+0b1', 0), ('0 ', 0), ('000123', 10), ('000123', 0), ('0000', 0),
    ('0_000', 0), ('00_1', 0), ('1\u00e9', 10), ('\uff11\uff12', 10), ('12', 3), ('12', 36),
    ('0x10', 36), ('0b10', 36), ('0b10', 12), ('zzzzzzzzzzzzz', 36), ('1y2p0ij32e8e7', 36),
    ('1y2p0ij32e8e8', 36), ('-1y2p0ij32e8e8', 36), ('-1y2p0ij32e8e9', 36), ('\u00a0', 10),
    ('1_2_3_4', 16), ('_', 10), ('0_', 0), ('1\u00a02', 10), ('  -  7', 10), ('7  \n', 10),
    ('0' * 30 + '7', 10), ('0' * 30 + '7', 0), ('\U0001D7D9\U0001D7DA', 10),
]
for _ in range(120 * SCALE):
    base = rng.choice([0, 2, 8, 10, 16, rng.randint(2, 36)])
    v = rng.choice([rng.randint(-1000, 1000), rng.randint(-2**63, 2**63 - 1),
                    rng.randint(-2**70, 2**70)])
    b = base or rng.choice([2, 8, 10, 16])
    digits = ''
    m = abs(v)
    while True:
        digits = '0123456789abcdefghijklmnopqrstuvwxyz'[m % b] + digits
        m //= b
        if m == 0:
            break
    if rng.random() < 0.3:
        digits = digits.upper()
    if rng.random() < 0.3 and len(digits) > 2:
        i = rng.randint(1, len(digits) - 1)
        digits = digits[:i] + rng.choice(['_', '__', '_x', ' ']) + digits[i:]
    prefix = {2: '0b', 8: '0o', 16: '0x'}.get(b, '')
    if (base == 0 or rng.random() < 0.5) and prefix:
        digits = prefix + digits
    text = ('-' if v < 0 else rng.choice(['', '+'])) + digits
    if rng.random() < 0.3:
        text = rng.choice([' ', '\t', '\n ']) + text + rng.choice(['', ' ', '\u3000'])
    INT_TEXTS.append((text, base))
rows = []
for text, base in INT_TEXTS:
    try:
        v = int(text, base)
        rc, val = (0, v) if -2**63 <= v < 2**63 else (2, 0)
    except ValueError:
        rc, val = 1, 0
    rows.append([cstr(text), str(clen(text)), str(base), str(rc), i64(val)])
table('PARSE_INT_CASES', 'ParseIntCase', rows)

# --- float() --------------------------------------------------------------
FLOAT_TEXTS = [
    '1.5', ' 1.5 ', '1_000.5', '1__0', '_1', '1_', '1_.5', '1._5', '1.5_', '1e1_0', '1_e5',
    '1e_5', '1E5', 'inf', '-inf', '+inf', 'Infinity', '-iNfInItY', 'INFINITY', 'infinit',
    'infinityy', 'nan', '-nan', '+NaN', 'NAN', 'nan(1)', 'nann', 'in f', 'i_nf', '1e', '1e+',
    '1e-', '.5', '5.', '.', 'e5', '.e5', '-.5e-3', '+5.E+3', '0x1p3', '0x10', '1e999', '-1e999',
    '1e-999', '-1e-999', '4.9e-324', '2.4703282292062327e-324', '2.4703282292062328e-324',
    '1.7976931348623157e308', '1.7976931348623158e308', '1.7976931348623159e308', '0.1',
    '\u0661.\u0665', '\u00a01.5', '1.5\u3000', '1.5\x00', '\x001.5', '', ' ', '+', '-', '1.5 x',
    '\u0661\u0662', '0.' + '1' * 400, '1' * 400, '9007199254740993', '9007199254740993.0000001',
    '1e1000000000000000000000', '1e-1000000000000000000000', '00000.5', '1.5e0005', '--1',
    '+-1', '1 .5', '1. 5', '1e 5', '\t\n1\r\x0c\x0b', '\x1c1', '1,5', '1.5.', '1..5', '0',
    '-0', '-0.0', '+0e10', '١٢٣٫٤', '1_2_3.4_5e1_0', '1e1000', '1.5e+308', '-2.5e-320',
    '3.141592653589793238462643383279', 'nan ', ' -inf\n', '\u20ac1',
]
for _ in range(150 * SCALE):
    x = rng.choice([random_double(), nice_double()])
    fmt = rng.choice(['%r', '%.20e', '%.3g', '%.25f', '%.0f', '%.17g'])
    text = fmt % x if fmt != '%r' else repr(x)
    if rng.random() < 0.2:
        text = ' ' + text + '\n'
    FLOAT_TEXTS.append(text)
rows = []
for text in FLOAT_TEXTS:
    try:
        v = float(text)
        rows.append([cstr(text), str(clen(text)), 'true', u64(bits(v))])
    except ValueError:
        rows.append([cstr(text), str(clen(text)), 'false', '0'])
table('PARSE_FLOAT_CASES', 'ParseFloatCase', rows)

# --- round() --------------------------------------------------------------
ROUNDS = [(2.675, 2), (0.125, 2), (0.375, 2), (2.5, 0), (-0.5, 0), (1.5, 0), (0.5, 0),
          (-2.5, 0), (1234.5, -2), (1250.0, -2), (1350.0, -2), (1250.0000000001, -2),
          (5.0, -1), (15.0, -1), (25.0, -1), (-25.0, -1), (35.0, -1), (4.9, -1), (5.1, -1),
          (50.0, -2), (150.0, -2), (999.0, -1), (9999.5, -4), (99999.0, -5), (1.7976931348623157e308, -308),
          (1.7976931348623157e308, -307), (1.7976931348623157e308, -300), (1e308, -308),
          (123.456, 1), (123.456, 2), (123.456, 3), (123.456, 5), (-123.456, 1), (-0.0, 2),
          (-0.0, -2), (0.0, -5), (float('inf'), 2), (float('-inf'), -2), (float('nan'), 2),
          (1e-320, 323), (1e-320, 324), (5e-324, 323), (5e-324, 322), (1.0, 400), (1.0, -400),
          (-1.0, -400), (1.0, -308), (-1.0, -309), (1e300, -301), (6e300, -301), (0.285, 2),
          (1.005, 2), (2.345, 2), (0.045, 2), (1e22, -22), (5e22, -23), (1.5e22, -22),
          (2**53 + 1.0, -1), (9007199254740993.0, 0), (0.1, 1), (0.05, 1), (0.15, 1),
          (0.25, 1), (0.35, 1), (-0.05, 1), (-0.04, 1), (123456789.987654321, -3),
          (123456789.987654321, 4), (1e-5, 5), (1.5e-5, 5), (2.5e-5, 5), (0.4999999999999999, 0)]
for _ in range(200 * SCALE):
    x = nice_double() if rng.random() < 0.7 else random_double()
    ROUNDS.append((x, rng.randint(-12, 20)))
for _ in range(60 * SCALE):
    x = rng.randint(0, 10**6) * 10**rng.randint(0, 290) * rng.choice([1, -1]) + 0.0
    ROUNDS.append((x, -rng.randint(1, 300)))
rows = []
for x, nd in ROUNDS:
    try:
        r = round(x, nd)
    except OverflowError:
        r = math.copysign(float('inf'), x)
    rows.append([u64(bits(x)), str(nd), u64(bits(r))])
table('ROUND_CASES', 'RoundCase', rows)

# --- bin/oct/hex ----------------------------------------------------------
BASE_VALUES = [0, 1, -1, 5, -5, 255, -255, 4096, 2**63 - 1, -2**63, -2**63 + 1]
BASE_VALUES += [rng.randint(-2**63, 2**63 - 1) for _ in range(10 * SCALE)]
rows = []
for v in BASE_VALUES:
    for b, f in ((2, bin), (8, oct), (16, hex)):
        rows.append([i64(v), str(b), cstr(f(v))])
table('INT_BASE_CASES', 'IntBaseCase', rows)

print('// tests/unit/numfmt_cases.h - generated by gen_numfmt_cases.py with CPython %d.%d.%d:'
      % sys.version_info[:3])
print('// do not edit; %s cases.' % ', '.join('%d %s' % (n, k) for k, n in counts.items()))
print('\n'.join(out))
