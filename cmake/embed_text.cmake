# cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed_text.cmake
# Writes a C file defining `const char NAME[]`: the bytes of IN and a NUL,
# as hex (no escaping to get wrong, whatever the text holds).
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
get_filename_component(src "${IN}" NAME)
file(WRITE "${OUT}" "/* Generated from ${src} by cmake/embed_text.cmake: do not edit. */\n"
                    "extern const char ${NAME}[];\n"
                    "const char ${NAME}[] = {\n    ${bytes}0x00\n};\n")
