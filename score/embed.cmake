# Writes OUT: a C array of the bytes of IN (empty when IN does not exist).
if(EXISTS "${IN}")
  file(READ "${IN}" hex HEX)
  string(LENGTH "${hex}" n)
  math(EXPR len "${n} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
else()
  set(len 0)
  set(body "0")
endif()
file(WRITE "${OUT}.tmp" "/* generated from models/default.ssmf */\n#include <stddef.h>\n"
  "const unsigned char ssmf_default_model_bytes[] = {\n${body}\n};\n"
  "const size_t ssmf_default_model_len = ${len};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
