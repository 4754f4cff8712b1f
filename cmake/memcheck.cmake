# cmake -P script: run each program in BINS under Valgrind memcheck.
# Fails on any memory error or definite leak; logs in LOGDIR.
file(MAKE_DIRECTORY ${LOGDIR})
set(bad "")
set(n 0)
foreach(bin ${BINS})
  get_filename_component(name ${bin} NAME)
  execute_process(COMMAND ${VALGRIND} --error-exitcode=99 --leak-check=full
                          --errors-for-leak-kinds=definite --show-leak-kinds=definite
                          --log-file=${LOGDIR}/${name}.log ${bin}
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  math(EXPR n "${n} + 1")
  if(NOT rc EQUAL 0)
    list(APPEND bad "${name} (exit ${rc}, see ${LOGDIR}/${name}.log)")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "memcheck: failures in: ${bad}")
endif()
message(STATUS "memcheck: ${n} test programs clean")
