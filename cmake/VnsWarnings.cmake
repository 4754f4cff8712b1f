# Warnings for every target of the project (not for imported ones).
set(VNS_WARNINGS -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes
    -Wpointer-arith -Wvla -Wformat=2)
if(VNS_WERROR)
  list(APPEND VNS_WARNINGS -Werror)
endif()
function(vns_target_warnings tgt)
  target_compile_options(${tgt} PRIVATE ${VNS_WARNINGS})
endfunction()
