# ctest -T memcheck exits 0 even when Valgrind reported errors; read the
# logs and fail if any holds an error summary other than zero or a
# definite leak.
file(GLOB logs "${LOGDIR}/MemoryChecker.*.log")
set(bad "")
foreach(log ${logs})
  file(READ ${log} txt)
  if(txt MATCHES "ERROR SUMMARY: [1-9]" OR txt MATCHES "definitely lost: [1-9]")
    list(APPEND bad ${log})
  endif()
endforeach()
list(LENGTH logs n)
if(bad)
  message(FATAL_ERROR "memcheck: Valgrind errors in: ${bad}")
endif()
message(STATUS "memcheck: ${n} test logs clean")
