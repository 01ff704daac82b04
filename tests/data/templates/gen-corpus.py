#!/usr/bin/env python3
"""Generate corpus.txt: the hand-written cases plus a systematic sweep of
every supported function over a fixed set of argument shapes.

    python3 gen-corpus.py > corpus.txt

The corpus is checked in; the generator documents how it was made.
"""
import os

here = os.path.dirname(os.path.abspath(__file__))
out = [l.rstrip("\n") for l in open(os.path.join(here, "corpus-hand.txt"), encoding="utf-8")]

S = ['.VmName', '""', '"  Hello World  "', '"ÄÖü straße"', '"a_b.c-d"', '"日本語 テキスト"',
     '"\\t x \\n"', '.DiskIndex', '3', '1.5', 'true', 'nil', '.Missing', '"Ǆ ǆ"', '"ﬁ"']
out.append("# --- generated: one-string functions")
for f in ["lower", "upper", "title", "untitle", "trim", "nospace", "initials"]:
    for a in S:
        out.append("{{%s %s}}" % (f, a))
    out.append("{{%s}}" % f)
    out.append('{{%s "a" "b"}}' % f)
    out.append('{{.VmName | %s}}' % f)
out.append("# --- generated: two-string functions")
P = [('"-"', '"--a-b--"'), ('""', '"abc"'), ('"abc"', '""'), ('"é"', '"éaé"'), ('".-"', '".-x.-"'),
     ('"x"', '.VmName'), ('"My"', '.VmName'), ('"code"', '.VmName'), ('" "', '"  a  "'),
     ('1', '"a"'), ('"a"', '.DiskIndex'), ('nil', '"a"'), ('"\\u00e9"', '"\\u00e9x"')]
for f in ["trimAll", "trimSuffix", "trimPrefix", "hasPrefix", "hasSuffix", "contains"]:
    for a, b in P:
        out.append("{{%s %s %s}}" % (f, a, b))
    out.append('{{%s "a"}}' % f)
    out.append('{{"abc" | %s "c"}}' % f)
out.append("# --- generated: replace / repeat / substr / trunc")
for a, b, c in [('"a"', '"b"', '"banana"'), ('""', '"-"', '"abc"'), ('""', '"-"', '"日本"'),
                ('"na"', '""', '"banana"'), ('"x"', '"y"', '""'), ('"."', '"-"', '.VmName'),
                ('"aa"', '"a"', '"aaaa"'), ('1', '"a"', '"b"')]:
    out.append("{{replace %s %s %s}}" % (a, b, c))
out.append('{{replace "a" "b"}}')
for n in ['0', '1', '3', '-1', '.DiskIndex', '"3"', '1.0', '1.5', '(add 1 2)', 'nil']:
    out.append('{{repeat %s "ab"}}' % n)
for s_, e in [('0', '3'), ('1', '3'), ('-1', '3'), ('2', '-1'), ('2', '100'), ('3', '1'), ('0', '0'),
              ('-1', '-1'), ('-1', '100'), ('100', '-1'), ('100', '200'), ('5', '3'), ('"1"', '2'), ('0', '1.5')]:
    out.append('{{substr %s %s "hello"}}' % (s_, e))
out.append('{{substr 1 2 .VmName}}')
out.append('{{substr 0 2 "日本語"}}')
out.append('{{substr 0 1}}')
for n in ['0', '1', '5', '100', '-1', '-3', '-100', '.DiskIndex', '-0', '"5"', '2.0', '(len "abc")']:
    out.append('{{trunc %s "hello"}}' % n)
out.append('{{trunc 3 .VmName}}')
out.append('{{trunc 11 .VmName}}')
out.append('{{trunc 10 .VmName | upper}}')
out.append('{{trunc 2 "日本語"}}')
out.append('{{trunc -2 "日本語"}}')
out.append('{{trunc 63 (repeat 10 "abcdefgh")}}')
out.append('{{trunc}}')
out.append("# --- generated: regexReplaceAll / mustRegexReplaceAll")
R = [('"a+"', '"caaandaa"', '"X"'), ('"[^a-z0-9-]"', '.VmName', '"-"'), ('"(\\\\w+)\\\\.(\\\\w+)"', '.VmName', '"$2.$1"'),
     ('"(?P<first>\\\\w+)"', '"hello world"', '"<${first}>"'), ('"a*"', '"baaac"', '"-"'), ('""', '"abc"', '"-"'),
     ('"x*"', '"日本"', '"-"'), ('"(a)(b)?"', '"ac"', '"[$1|$2]"'), ('"(a)"', '"a"', '"$1x"'), ('"(a)"', '"a"', '"${1}x"'),
     ('"(a)"', '"a"', '"$$1"'), ('"(a)"', '"a"', '"$"'), ('"(a)"', '"a"', '"${1"'), ('"(a)"', '"a"', '"$10"'),
     ('"(a)"', '"a"', '"$01"'), ('"^"', '"abc"', '"^"'), ('"$"', '"abc\\n"', '"$"'), ('"(?i)ABC"', '"xabcx"', '"-"'),
     ('"\\\\s+"', '"a \\t b"', '"_"'), ('"\\\\d"', '"a1b22"', '"#"'), ('"\\\\bfoo\\\\b"', '"foo foobar foo"', '"X"'),
     ('"."', '"日本"', '"."'), ('"(?s).+"', '"a\\nb"', '"X"'), ('".+"', '"a\\nb"', '"X"'), ('"[[:alpha:]]+"', '"ab12cd"', '"L"'),
     ('"(a|ab)(c|bcd)"', '"abcd"', '"[$1,$2]"'), ('"(?m)^x"', '"x\\nx"', '"y"'), ('"\\\\pL+"', '"héllo wörld"', '"W"'),
     ('"(?U)a+"', '"aaa"', '"b"'), ('"a{2}"', '"aaaaa"', '"b"'), ('"a{2,}?"', '"aaaaa"', '"b"')]
for f in ["regexReplaceAll", "mustRegexReplaceAll"]:
    for a, b, c in R:
        out.append("{{%s %s %s %s}}" % (f, a, b, c))
    for bad in ['"("', '"a**"', '"[a"', '"(?=a)"', '"(a)\\\\1"', '"a++"', '"\\\\Z"', '"(?<=a)b"', '"x{2,1}"', '"\\\\"']:
        out.append('{{%s %s "abc" "-"}}' % (f, bad))
    out.append('{{%s "a" "b"}}' % f)
    out.append('{{%s 1 "a" "b"}}' % f)
out.append("# --- generated: arithmetic")
N = ['1', '0', '-1', '.DiskIndex', '"12"', '"0x10"', '"010"', '"0b11"', '"1_000"', '"12.00"', '"12.5"', '"abc"', '""',
     '1.9', '-1.9', 'true', 'false', 'nil', '.Missing', '9223372036854775807', '-9223372036854775808', '1e19', '"  3"', '.VmName']
for a in N:
    out.append("{{add1 %s}}" % a)
    out.append("{{add %s 1}}" % a)
    out.append("{{sub 10 %s}}" % a)
    out.append("{{mul %s 3}}" % a)
    out.append("{{div 100 %s}}" % a)
    out.append("{{mod 7 %s}}" % a)
for line in ['{{add}}', '{{add 1 2 3 4}}', '{{add1}}', '{{add1 1 2}}', '{{sub 1}}', '{{sub 1 2 3}}', '{{div 1}}',
             '{{div -7 2}}', '{{mod -7 2}}', '{{mod 7 -2}}', '{{div -9223372036854775808 -1}}', '{{mod -9223372036854775808 -1}}',
             '{{add 9223372036854775807 1}}', '{{mul 9223372036854775807 2}}', '{{mul 5}}', '{{mul}}', '{{mul 2 3 4}}',
             '{{max 1 5 3}}', '{{max -1 -5}}', '{{max 3}}', '{{max}}', '{{max "7" 2}}', '{{min 1 5 3}}', '{{min -1 -5}}',
             '{{min 3}}', '{{min}}', '{{min "a" 2}}', '{{.DiskIndex | add 1}}', '{{1 | sub 5}}', '{{add 1 2 | printf "%T"}}',
             '{{add1 1 | printf "%d"}}', '{{len (printf "%d" (mul 1000 1000))}}', '{{add 1.5 1.5}}', '{{add "1" "2"}}',
             '{{eq (add 1 1) 2}}', '{{eq (add 1 1) 2.0}}', '{{lt (add 1 1) 3}}']:
    out.append(line)
F = ['1.5', '-1.5', '2', '"2.5"', '"-0.5"', '"abc"', 'nil', 'true', '.DiskIndex', '1e300', '"inf"', '"NaN"', '"1e2"', '0.1', '-0.0']
for a in F:
    out.append("{{floor %s}}" % a)
    out.append("{{ceil %s}}" % a)
    out.append("{{round %s 0}}" % a)
for line in ['{{round 3.14159 2}}', '{{round 2.5 0}}', '{{round -2.5 0}}', '{{round 1.005 2}}', '{{round 1234.5678 -2}}',
             '{{round 2.4 0 0.4}}', '{{round 2.4 0 0.5}}', '{{round 2.4 0 1}}', '{{round 2.4 0 "x"}}', '{{round 2.4 "0"}}',
             '{{round 2.4 1.5}}', '{{round 2.4}}', '{{round}}', '{{round 123.456 1 | printf "%.3f"}}',
             '{{floor}}', '{{ceil 1 2}}', '{{floor 1.5 | printf "%T"}}', '{{round 0.5 0 (floor 0.5)}}']:
    out.append(line)
out.append("# --- generated: comparison and logic built-ins")
V = ['1', '2', '-1', '1.0', '1.5', '"a"', '"b"', '""', 'true', 'false', 'nil', '.DiskIndex', '.VmName', '.Shared', "'a'", '(add 1 1)']
for a in ['1', '"a"', 'true', '1.5', 'nil', '.DiskIndex', '(add 1 1)']:
    for b in V:
        out.append("{{eq %s %s}}" % (a, b))
for f in ['ne', 'lt', 'le', 'gt', 'ge']:
    for a, b in [('1', '2'), ('2', '1'), ('1', '1'), ('"a"', '"b"'), ('"b"', '"a"'), ('"a"', '"a"'), ('1.5', '2.5'),
                 ('1', '1.5'), ('true', 'false'), ('nil', '1'), ('1', '"1"'), ('.DiskIndex', '(add 1 1)'), ("'a'", '97')]:
        out.append("{{%s %s %s}}" % (f, a, b))
    out.append("{{%s 1}}" % f)
    out.append("{{%s 1 2 3}}" % f)
for line in ['{{eq 1}}', '{{eq}}', '{{eq 1 2 1}}', '{{eq 1 2 "x"}}', '{{eq 1 1 "x"}}', '{{eq "a" "b" "c" "a"}}',
             '{{and 1 2}}', '{{and 0 2}}', '{{and 1 0}}', '{{and "" "x"}}', '{{and}}', '{{and 1}}', '{{and true true true}}',
             '{{or 0 ""}}', '{{or 0 "x"}}', '{{or}}', '{{or 1 (div 1 0)}}',
             '{{and 1 (div 1 0)}}', '{{or 0 (div 1 0)}}', '{{1 | and 1}}', '{{0 | and 1}}', '{{0 | or 0}}', '{{"x" | or 0}}',
             '{{not 0}}', '{{not 1}}', '{{not ""}}', '{{not nil}}', '{{not .Missing}}', '{{not}}', '{{not 1 2}}',
             '{{if and .Shared (eq .DiskIndex 2)}}ok{{end}}', '{{if or (eq .DiskIndex 0) (eq .DiskIndex 2)}}ok{{end}}',
             '{{len "abc"}}', '{{len ""}}', '{{len .VmName}}', '{{len 3}}', '{{len nil}}', '{{len}}', '{{len .Missing}}',
             '{{len .Shared}}', '{{len "日本"}}', '{{index "abc" 1}}', '{{index "abc" 3}}', '{{index "abc" -1}}',
             '{{index 3 1}}', '{{index "abc"}}', '{{index}}', '{{index "abc" 1.0}}', '{{index "abc" true}}']:
    out.append(line)
out.append("# --- generated: print, println, printf")
for line in ['{{print "a" "b"}}', '{{print 1 2}}', '{{print "a" 1 "b"}}', '{{print 1 "a" 2}}', '{{print nil}}',
             '{{print true false}}', '{{print 1.5 2}}', '{{print .DiskIndex .Shared .VmName}}', '{{print .Missing}}',
             '{{println "a" "b"}}', '{{println 1 2}}', '{{println}}', '{{print}}', '{{printf}}', '{{printf 3}}',
             '{{printf "%%"}}', '{{printf "%d"}}', '{{printf "%d" 1 2}}', '{{printf "x" 1}}', '{{printf "%z" 1}}',
             '{{printf "%!" 1}}', '{{printf "%"}}', '{{printf "%-"}}', '{{printf "%d" "s"}}', '{{printf "%s" 1}}',
             '{{printf "%t" 1}}', '{{printf "%d" 1.5}}', '{{printf "%f" 1}}', '{{printf "%d" nil}}', '{{printf "%s" nil}}',
             '{{printf "%v" nil}}', '{{printf "%x" "hi"}}', '{{printf "%X" "hi"}}', '{{printf "% x" "hi"}}',
             '{{printf "%#x" "hi"}}', '{{printf "%q" "a\\"b\\n"}}', '{{printf "%q" "日本"}}', '{{printf "%q" "\\x00\\x7f"}}',
             '{{printf "%#q" "abc"}}', '{{printf "%q" 97}}', '{{printf "%q" 39}}', '{{printf "%c" 26085}}',
             '{{printf "%c" -1}}', '{{printf "%v" .}}', '{{printf "%s|%s" .VmName .PlanName}}']:
    out.append(line)
for v in ['0', '7', '-7', '255', '-255', '9223372036854775807', '-9223372036854775808', '.DiskIndex', '(add 1 2)']:
    for spec in ['%d', '%5d', '%-5d|', '%05d', '%+d', '% d', '%x', '%X', '%#x', '%o', '%#o', '%b', '%.3d', '%8.3d',
                 '%-08d|', '%+05d', '%v', '%c', '%U']:
        out.append('{{printf "%s" %s}}' % (spec, v))
for v in ['"abc"', '""', '"日本語"', '.VmName']:
    for spec in ['%s', '%10s|', '%-10s|', '%.2s', '%5.1s|', '%010s', '%v', '%q', '%x', '%d']:
        out.append('{{printf "%s" %s}}' % (spec, v))
for v in ['0.0', '1.5', '-1.5', '3.14159265', '1e6', '1e-7', '123456789.0', '1e21', '2.5', '100.0', '0.1', '(floor 2.7)', '1e100']:
    for spec in ['%f', '%.2f', '%8.3f|', '%-8.2f|', '%08.3f', '%+.1f', '%e', '%.3e', '%E', '%g', '%.3g', '%G', '%v', '%5.0f', '%.0f']:
        out.append('{{printf "%s" %s}}' % (spec, v))
for v in ['true', 'false', '.Shared']:
    for spec in ['%t', '%v', '%6t|', '%-6t|', '%d']:
        out.append('{{printf "%s" %s}}' % (spec, v))
out.append("# --- generated: Forklift-style PVC templates")
for t in ['{{.PlanName | trunc 15}}-{{.TargetVmName | trunc 15}}-{{.DiskIndex}}',
          '{{lower .VmName | replace " " "-" | replace "_" "-" | replace "." "-" | trunc 40 | trimSuffix "-"}}-{{.DiskIndex}}',
          '{{if .Shared}}shared{{else}}{{.TargetVmName}}{{end}}-{{.DiskIndex}}',
          '{{.TargetVmName}}-{{if eq .DiskIndex .RootDiskIndex}}os{{else}}data{{add .DiskIndex 1}}{{end}}',
          '{{.TargetVmName}}-{{printf "%02d" .DiskIndex}}',
          '{{.TargetVmName}}-{{.WinDriveLetter | lower}}',
          '{{regexReplaceAll "[^a-z0-9]+" (lower .FileName) "-" | trimAll "-"}}',
          '{{.VmId}}-{{substr 0 8 .DiskId | lower}}',
          '{{$n := lower .VmName}}{{$n = regexReplaceAll "[^a-z0-9-]" $n "-"}}{{trunc 20 $n}}',
          '{{- $base := printf "%s-%s" .PlanName .TargetVmName -}}⏎{{ trunc 50 $base }}-{{ .DiskIndex }}',
          '{{.TargetVmName}}-disk-{{mul .DiskIndex 10 | add 5}}',
          '{{initials (title (replace "-" " " .PlanName))}}-{{.DiskIndex}}',
          '{{untitle "Hello World"}}', '{{title "hello wORLD foo_bar x-y"}}', '{{title "élan vital"}}',
          '{{.TargetVmName | upper | lower}}', '{{max .DiskIndex .RootDiskIndex 1}}-{{min .DiskIndex 1}}',
          '{{hasPrefix "my" .TargetVmName}}-{{hasSuffix "01" .TargetVmName}}-{{contains "vm" .TargetVmName}}']:
    out.append(t)
out.append("# --- generated: unknown functions and misuse")
for t in ['{{trimm .VmName}}', '{{lowercase "A"}}', '{{.VmName | frobnicate}}', '{{if nope}}x{{end}}',
          '{{template "x"}}', '{{lower .VmName "x"}}',
          '{{lower 1}}', '{{lower .DiskIndex}}', '{{lower .Shared}}', '{{lower .Missing}}', '{{lower nil}}',
          '{{trunc .VmName "x"}}', '{{trunc "3" "hello"}}', '{{repeat 3}}', '{{upper (add 1 2)}}', '{{.DiskIndex | lower}}',
          '{{.Shared | upper}}', '{{ .VmName | trunc 3 | add 1 }}', '{{repeat -1 "x"}}', '{{substr 3 1 "hello"}}',
          '{{div 1 0}}', '{{mod 1 0}}', '{{printf "%d" (div 1 0)}}', '{{ trunc 3 }}', '{{ trunc }}',
          'line1⏎line2 {{trimm}}', 'line1⏎{{ .VmName⏎ | lower }}', 'a⏎b⏎{{"x" | lower 3}}', '⏎⏎  {{div 1 0}}',
          '{{if true}}⏎{{end', '{{range}}{{end}}', '{{with}}{{end}}', '{{else if true}}', '{{if true}}{{else if}}{{end}}',
          '{{$x := 1}}{{$x.Foo}}', '{{$x := .VmName}}{{$x.Foo}}', '{{"a".Foo}}', '{{1.Foo}}', '{{true.Foo}}', '{{nil.Foo}}',
          '{{..Foo}}', '{{.Foo.}}', '{{@}}', '{{#}}', '{{a-b}}', '{{.Vm-Name}}', '{{$x-1}}', '{{lower"a"}}', '{{"a"lower}}',
          '{{print "é"é}}', '{{print 1,2}}', '{{ , }}', '{{ := }}', '{{ = }}', '{{"a" = "b"}}']:
    out.append(t)
out.append("# --- generated: random nestings of everything (fixed seed)")
import random
random.seed(1)
strs=['"a"','""','"Hello World"','"日本"','"a-b_c.d"','" x "','"\\t"','.VmName','.PlanName','.TargetVmName','.FileName','"0x1f"','"12"','"-3"','"1.5"','`raw`']
nums=['0','1','-1','2','7','63','100','-5','1.5','-2.5','0.0','1e3','0x10','9223372036854775807','.DiskIndex','.RootDiskIndex',"'a'"]
bools=['true','false','.Shared','nil']
f1s=['lower','upper','title','untitle','trim','nospace','initials']
f2s=['trimAll','trimSuffix','trimPrefix','hasPrefix','hasSuffix','contains']
fm=['add','sub','mul','div','mod','max','min','add1','floor','ceil']
fb=['eq','ne','lt','le','gt','ge','and','or','not','len','print','println']
verbs=['%s','%d','%v','%q','%x','%X','%o','%c','%t','%f','%e','%g','%5d','%-5s|','%05d','%+d','%.2f','%8.3e','%#x','%#v','%+v','%T','%%','%U','%b','% d','%.3s','%10.4g','%x']
def atom(d):
    r=random.random()
    if r<0.35: return random.choice(strs)
    if r<0.65: return random.choice(nums)
    if r<0.72: return random.choice(bools)
    return '('+expr(d+1)+')' if d<3 else random.choice(strs)
def expr(d=0):
    r=random.random()
    if r<0.2: return random.choice(f1s)+' '+atom(d)
    if r<0.35: return random.choice(f2s)+' '+atom(d)+' '+atom(d)
    if r<0.55:
        f=random.choice(fm); n=random.randint(1,3) if f not in('add1','floor','ceil') else 1
        if f in ('sub','div','mod'): n=2
        return f+' '+' '.join(atom(d) for _ in range(n))
    if r<0.75:
        f=random.choice(fb); n={'not':1,'len':1}.get(f,random.randint(1,3))
        if f in('ne','lt','le','gt','ge'): n=2
        return f+' '+' '.join(atom(d) for _ in range(n))
    if r<0.85:
        return 'printf "'+''.join(random.choice(verbs)+random.choice(['','-',' ']) for _ in range(random.randint(1,3)))+'" '+' '.join(atom(d) for _ in range(random.randint(0,3)))
    if r<0.9: return random.choice(['trunc','repeat'])+' '+random.choice(nums)+' '+atom(d)
    if r<0.95: return 'substr '+random.choice(nums)+' '+random.choice(nums)+' '+atom(d)
    return 'replace '+atom(d)+' '+atom(d)+' '+atom(d)
for i in range(800):
    e=expr()
    if random.random()<0.3: e=atom(0)+' | '+e
    if random.random()<0.2: e='{{if '+expr()+'}}T{{else}}F{{end}}'; out.append(e); continue
    out.append('{{'+e+'}}')

out.append("# --- generated: random control structures, variables, trim markers (fixed seed)")
random.seed(2)
catoms=['.Name','.Empty','.Num','.Neg','.Flag','.List','.None','$','$x','$i','$e','.','1','0','-3','"a"','""','"B"','true','false','nil','1.5',"'x'",'.Missing','(index .List 1)','(len .List)']
cfuncs=['lower','upper','print','len','not','eq','ne','lt','and','or','index','printf "%v"','add','add1','trunc 2','repeat 2','title','contains "a"']
def cexpr(d=0):
    r=random.random()
    if r<0.4 or d>2: return random.choice(catoms)
    f=random.choice(cfuncs); n=random.randint(0,2)
    return f+' '+' '.join(('('+cexpr(d+1)+')' if random.random()<0.3 else random.choice(catoms)) for _ in range(n))
def ws(): return random.choice(['','',' ','  ','\u23ce','\t'])
def lm(): return random.choice(['{{','{{','{{- '])
def rm(): return random.choice(['}}','}}',' -}}'])
def block(d=0):
    out=''
    for _ in range(random.randint(1,3)):
        r=random.random()
        if r<0.3: out+=ws()+random.choice(['x','y ','-'])+ws()
        elif r<0.55: out+=lm()+cexpr()+rm()
        elif r<0.65: out+=lm()+random.choice(['$x := ','$x = ','$y := '])+cexpr()+rm()
        elif r<0.75 and d<2: out+=lm()+'if '+cexpr()+rm()+block(d+1)+(lm()+'else'+rm()+block(d+1) if random.random()<0.5 else '')+lm()+'end'+rm()
        elif r<0.85 and d<2: out+=lm()+'with '+random.choice(['','$x := '])+cexpr()+rm()+block(d+1)+lm()+'end'+rm()
        elif d<2: out+=lm()+'range '+random.choice(['','$i, $e := ','$e := '])+random.choice(['.List','.None','.Name','.Num','.List','.Missing'])+rm()+block(d+1)+(lm()+random.choice(['break','continue'])+rm() if random.random()<0.2 else '')+lm()+'end'+rm()
        else: out+=lm()+'/* c */'+rm()
    return out
for i in range(500):
    out.append('@custom '+('{{$x := 1}}' if random.random()<0.7 else '')+block())

import sys
sys.stdout.write("\n".join(out) + "\n")
sys.stdout.flush()
# templates with invalid UTF-8, as raw bytes
sys.stdout.buffer.write(b"# --- invalid UTF-8 (raw bytes)\n"
                        b"a\xffb{{.DiskIndex}}\n"
                        b"{{\xff}}\n"
                        b"{{\"\xff\" | upper}}\n"
                        b"{{lower \"\xc3\" | printf \"%q\"}}\n"
                        b"{{trimAll \"\xff\" \"\xffa\xff\"}}\n"
                        b"{{title \"\xffabc\"}}\n"
                        b"{{printf \"%5s|\" \"\xff\"}}\n"
                        b"{{`\xff` | printf \"%q\"}}\n")
