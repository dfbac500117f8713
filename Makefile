# The two commands that do everything on a fresh machine: `make demo` and `make test`.
# Any Python from 3.11 to 3.13 works: `make demo PY=python3.13`. A .venv built with another
# Python, or whose install did not finish, is rebuilt. A version pyenv installed but did not
# select (its shim fails) is found under $PYENV_ROOT/versions.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: demo test lint venv bench bench-dbt clean distclean

# Rebuilt when the interpreter's version differs from the one the .venv was made with, when
# the last install did not finish (no stamp), or when pyproject.toml changed.
venv:
	@py='$(PY)'; \
	if ! $$py -c '' >/dev/null 2>&1; then case "$$py" in python3.*) \
		found=$$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$${py#python}*/bin/$$py 2>/dev/null | sort -V | tail -n 1); \
		[ -n "$$found" ] && py=$$found;; esac; fi; \
	want=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || { \
		echo "找不到 Python 解释器「$(PY)」：请安装 Python 3.11–3.13，或用 make demo PY=python3.12 指定。" >&2; exit 2; }; \
	case "$$want" in 3.11|3.12|3.13) ;; *) \
		echo "$(PY) 是 Python $$want；本项目需要 Python 3.11–3.13（例如 make demo PY=python3.11）。" >&2; exit 2;; esac; \
	have=$$(cat $(STAMP) 2>/dev/null); \
	if [ "$$have" != "$$want" ]; then \
		[ -d $(VENV) ] && echo "重建 $(VENV)（原为「$${have:-未完成的安装}」，现用 Python $$want）"; \
		rm -rf $(VENV) && $$py -m venv $(VENV) || exit 1; \
	elif [ ! pyproject.toml -nt $(STAMP) ]; then exit 0; fi; \
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install -q --upgrade pip && \
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install -q -e '.[dev]' && \
	echo "$$want" > $(STAMP)

demo: venv
	@if [ -z "$$(ls -A data/raw | grep -v '^.gitkeep$$')" ]; then \
		echo "data/raw/ 为空：生成合成示例数据 (seed 2021)"; \
		$(BIN)/employment-eval generate --out data/raw --year 2021 --seed 2021; \
	fi
	@echo "== 季中某晚（重放 2021-08-01）：夜间刷新 =="
	@echo "（演示数据有意放入了几处会产生警告的内容——如日期晚于评估日期、空着的报告提交日期——"
	@echo "  以展示警告的样子；下面的警告属于演示，实际数据出现警告时请按提示核对。）"
	$(BIN)/employment-eval run --as-of 2021-08-01 --allow-older
	@echo "== 第一阶段（2021-12-20）：年终刷新，输出记分板文件和各单位自评表 =="
	$(BIN)/employment-eval scoreboard --as-of 2021-12-20
	$(BIN)/employment-eval selfcheck --year 2021
	@echo "== 第三阶段：学指委审核后分管院领导审定签发，公布结果、制作荣誉证书 =="
	@# a second make demo finds 2021 signed: sign says so (exit 2), and the demo goes on
	-$(BIN)/employment-eval sign --year 2021 --by 分管副院长 --date 2021-12-28
	$(BIN)/employment-eval notice --year 2021 --date 2021-12-30
	@echo ""
	@echo "演示生成的文件："
	@echo "  季中晨报（2021-08-01）：data/marts/progress_2021_2021-08-01.html 与 .xlsx"
	@echo "  年终晨报（2021-12-20）：data/marts/progress_2021_2021-12-20.html 与 .xlsx"
	@echo "  年终文件（已审定签发）：data/marts/scoreboard_2021.xlsx、scoreboard_2021.csv、report_2021.html"
	@echo "  各单位自评表：data/marts/selfcheck_2021/（交回后放入 data/raw/selfcheck/）"
	@echo "  评估结果通知与荣誉证书：data/marts/notice_2021/"
	@echo "  发布数据库：data/marts/employment.duckdb（.venv/bin/duckdb -readonly 打开）"
	@echo "  各单位的文件夹（进度单与跟进名单，含个人信息）：data/work/followup/<年度>/<评估日期>/<单位>/"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint sql --processes 1

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: venv
	$(BIN)/python bench/run.py

# dbt-duckdb on a port of the same models (bench/dbt/), in its own environment (not installed
# by default); dbt-core below 1.12, whose parser is downloaded from outside the registry
bench-dbt: venv
	@test -x bench/.venv-dbt/bin/dbt || { $(PY) -m venv bench/.venv-dbt && \
		bench/.venv-dbt/bin/python -m pip install -q dbt-duckdb 'dbt-core<1.12' \
		"duckdb==$$($(BIN)/python -c 'import duckdb; print(duckdb.__version__)')"; }
	$(BIN)/python bench/dbt/compare.py

clean:
	rm -rf data/work data/marts/*.duckdb data/marts/*.lock data/marts/*.html data/marts/*.xlsx data/marts/*.csv \
		data/marts/selfcheck_* data/marts/notice_*

distclean: clean
	rm -rf $(VENV) data/rules
	find data/raw -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
