# Writes OUT as a C++ header defining NAME as a raw string literal holding the contents of IN.
file(READ "${IN}" content)
file(WRITE "${OUT}" "// Generated from ${IN} by cmake/embed.cmake; do not edit.\n#pragma once\nnamespace ddb2pg::app {\ninline constexpr const char* ${NAME} = R\"ddb2pg_embed(${content})ddb2pg_embed\";\n}\n")
