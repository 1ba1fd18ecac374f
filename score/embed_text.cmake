# Writes OUT: IN's bytes as the NUL-terminated C array NAME (a text file compiled in).
file(READ "${IN}" hex HEX)
get_filename_component(from "${IN}" NAME)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp" "/* generated from score/${from} */\nconst char ${NAME}[] = {\n${body}0\n};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
